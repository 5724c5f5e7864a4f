package rpc

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
)

// Default limits. Each can be changed with an [Option].
const (
	DefaultBatchLimit       = 100 // items in one batch
	DefaultDepthLimit       = 64  // nesting of arrays and objects in one message
	DefaultBatchConcurrency = 8   // batch items running at once

	// DefaultBatchResponseLimit is the most bytes of responses one batch
	// may gather before its remaining items get CodeLimitExceeded: 1 MiB,
	// the size of the largest message a transport accepts by default, so
	// that a batch's answer is never much larger than the largest request.
	// A batch is a way to save round trips on small calls; a client that
	// needs more sends the refused calls again, singly or in smaller
	// batches. Single calls are not capped.
	DefaultBatchResponseLimit = 1 << 20
)

// Server is a registry of methods and the engine that dispatches JSON-RPC
// messages to them. Create one with [NewServer], register methods with
// [Server.Register], and serve it with a transport, or call [Server.Handle]
// directly. A Server is safe for concurrent use; methods may be registered
// while it serves.
//
// It is not openrpc.Server, which is a URL where an API is served, as an
// OpenRPC document lists it.
type Server struct {
	cfg    config
	faults *faultLog // handler faults, logged at most once a second per method

	mu    sync.Mutex               // serializes registration
	table atomic.Pointer[registry] // copy-on-write; read without locks

	live liveSubs // open subscriptions (subscription_live.go)

	// unknown stands for every method that is not registered, so that
	// interceptors see calls to them; nil without interceptors.
	unknown *Method
}

type registry struct {
	byName     map[string]*Method
	ordered    []*Method
	generation uint64
}

// NewServer returns a Server configured by opts.
func NewServer(opts ...Option) *Server {
	s := &Server{cfg: config{
		logger:           slog.New(slog.DiscardHandler),
		batchLimit:       DefaultBatchLimit,
		batchConcurrency: DefaultBatchConcurrency,
		batchRespLimit:   DefaultBatchResponseLimit,
		depthLimit:       DefaultDepthLimit,
		providers:        map[reflect.Type]provider{},
	}}
	for _, o := range opts {
		o(&s.cfg)
	}
	if s.cfg.batchConcurrency < 1 {
		s.cfg.batchConcurrency = 1
	}
	if s.cfg.batchConcurrency > 4*runtime.GOMAXPROCS(0)+4 {
		s.cfg.batchConcurrency = 4*runtime.GOMAXPROCS(0) + 4
	}
	if s.cfg.batchRespLimit < 0 {
		s.cfg.batchRespLimit = 0
	}
	s.faults = newFaultLog(s.cfg.logger)
	if len(s.cfg.interceptors) > 0 {
		s.unknown = &Method{handler: s.chain(func(context.Context, *Request) (any, error) {
			return nil, errNotFound()
		})}
	}
	s.table.Store(&registry{byName: map[string]*Method{}})
	return s
}

// Logger returns the server's logger.
func (s *Server) Logger() *slog.Logger { return s.cfg.logger }

// Register adds fn as the method name. See the package documentation for
// the shapes fn may take. The error names the method and what is wrong with
// it. Names starting with "rpc." are reserved.
func (s *Server) Register(name string, fn any, opts ...MethodOption) error {
	if strings.HasPrefix(name, "rpc.") {
		return fmt.Errorf("rpc: method %q: names starting with \"rpc.\" are reserved", name)
	}
	return s.register(name, fn, opts)
}

// MustRegister is like Register but panics on error. Use it where a bad
// registration is a programming error caught before the server starts.
func (s *Server) MustRegister(name string, fn any, opts ...MethodOption) {
	if err := s.Register(name, fn, opts...); err != nil {
		panic(err)
	}
}

// RegisterReserved adds a method whose name starts with "rpc.". It is for
// framework packages, such as openrpc's rpc.discover and rpc.authenticate
// ([RegisterAuthenticate]).
func (s *Server) RegisterReserved(name string, fn any, opts ...MethodOption) error {
	if !strings.HasPrefix(name, "rpc.") {
		return fmt.Errorf("rpc: method %q: reserved names start with \"rpc.\"", name)
	}
	return s.register(name, fn, opts)
}

func (s *Server) register(name string, fn any, opts []MethodOption) error {
	if name == "" {
		return fmt.Errorf("rpc: method name is empty")
	}
	m, err := s.compile(name, fn, opts)
	if err != nil {
		return fmt.Errorf("rpc: method %q: %w", name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.table.Load()
	if _, dup := old.byName[name]; dup {
		return fmt.Errorf("rpc: method %q: already registered", name)
	}
	next := &registry{
		byName:     make(map[string]*Method, len(old.byName)+1),
		ordered:    append(old.ordered[:len(old.ordered):len(old.ordered)], m),
		generation: old.generation + 1,
	}
	for k, v := range old.byName {
		next.byName[k] = v
	}
	next.byName[name] = m
	s.table.Store(next)
	return nil
}

// Method returns the registered method called name.
func (s *Server) Method(name string) (*Method, bool) {
	m, ok := s.table.Load().byName[name]
	return m, ok
}

// Methods returns every registered method in registration order. The
// Methods are shared and must not be changed.
func (s *Server) Methods() []*Method {
	return s.table.Load().ordered
}

// Generation counts registrations. It changes whenever the set of methods
// does, so that documents built from the registry know when to rebuild.
func (s *Server) Generation() uint64 { return s.table.Load().generation }

// DeclaredScheme is a scheme declared on a server, as [Server.Schemes]
// lists it.
type DeclaredScheme struct {
	Name string
	Info SchemeInfo
}

// Schemes lists the declared security schemes in declaration order.
func (s *Server) Schemes() []DeclaredScheme {
	out := make([]DeclaredScheme, len(s.cfg.schemes))
	for i, sc := range s.cfg.schemes {
		out[i] = DeclaredScheme{Name: sc.name, Info: sc.info}
	}
	return out
}

// HasSchemes reports whether any security scheme is declared, so that a
// transport can skip authentication when there is nothing to run.
func (s *Server) HasSchemes() bool { return len(s.cfg.schemes) > 0 }

// Scheme returns the scheme declared under name.
func (s *Server) Scheme(name string) (Scheme, bool) {
	for _, sc := range s.cfg.schemes {
		if sc.name == name {
			return sc.scheme, true
		}
	}
	return nil, false
}

// Call runs one call to method with the given JSON params, exactly as a
// request carrying them would, and returns its JSON result or its error.
// Credentials come from ctx. It is for transports and tests that already
// hold a decoded request, and for packages such as openrpc that reuse a
// method's security check.
//
// params are held to the rules of a request's params in [Server.Handle]:
// nil, empty or null means none; anything else must be one JSON value with
// only JSON white space around it (else CodeParseError), an array or an
// object (else CodeInvalidRequest), nested no deeper than it could be
// inside a request within the depth limit (else CodeInvalidRequest), and
// its strings valid Unicode (else CodeInvalidParams naming the param).
//
// A non-nil error is always an *[Error]. The call has no id, so the
// method's interceptors see a [Request] whose ID is nil.
func (s *Server) Call(ctx context.Context, method string, params []byte) ([]byte, error) {
	m, ok := s.Method(method)
	if !ok {
		if s.unknown == nil {
			return nil, errNotFound()
		}
		// Interceptors see the call; its params are not checked, so the
		// answer is -32601 with or without interceptors.
		m, params = s.unknown, nil
	}
	params, perr := s.checkParams(params)
	if perr != nil {
		return nil, perr
	}
	res, rerr := s.invoke(ctx, m, &Request{Method: m, Params: params, Name: method})
	if rerr != nil {
		return nil, rerr
	}
	return res, nil
}

// Subscriptions returns how many subscriptions are open, on every
// session; a gauge for metrics.
func (s *Server) Subscriptions() int {
	s.live.mu.Lock()
	defer s.live.mu.Unlock()
	return len(s.live.subs)
}

// checkParams applies to params given to Call the checks that Handle and
// the wire layer apply to a request's: it returns them trimmed, or nil
// for none.
func (s *Server) checkParams(params []byte) ([]byte, *Error) {
	params = trimSpace(params)
	if len(params) == 0 {
		return nil, nil
	}
	// In a request, params sit one level inside the request object.
	valid, shallow := validMessage(params, s.cfg.depthLimit-1)
	switch {
	case !valid:
		return nil, errParse()
	case !shallow:
		return nil, invalidRequest("nesting too deep")
	case params[0] == '[' || params[0] == '{':
		return params, nil
	case isNull(params):
		return nil, nil
	}
	return nil, invalidRequest("params must be an array or an object")
}
