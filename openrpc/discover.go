package openrpc

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wardenrpc/warden/rpc"
)

// Service serves a server's OpenRPC document: as the result of
// rpc.discover and, being an [http.Handler], as GET /openrpc.json. It
// builds the document on first use and again only when the server's
// registry has changed since ([rpc.Server.Generation]). It is safe for
// concurrent use. Create one with [Register].
type Service struct {
	srv *rpc.Server
	cfg *config

	mu    sync.Mutex // serializes rebuilds
	built atomic.Pointer[snapshot]
}

// snapshot is one build of the document.
type snapshot struct {
	generation uint64
	doc        *Document
	json       []byte
	etag       string
}

// Register registers rpc.discover on srv and returns the Service behind
// it. Mount the Service on a mux to serve the same document over HTTP:
//
//	docs, err := openrpc.Register(srv, openrpc.WithInfo(openrpc.Info{Title: "Accounts", Version: "1.0.0"}))
//	mux.Handle("GET /openrpc.json", docs)
//
// With [WithRequirement], both rpc.discover and the HTTP handler ask for
// credentials that meet it. Register fails on a bad option and when
// rpc.discover is already registered.
func Register(srv *rpc.Server, opts ...Option) (*Service, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	s := &Service{srv: srv, cfg: cfg}
	mopts := []rpc.MethodOption{
		rpc.Summary("Returns the OpenRPC document that describes this server."),
		rpc.Tags("rpc"),
	}
	if len(cfg.requirement) > 0 {
		mopts = append(mopts, rpc.Security(cfg.requirement))
	}
	if err := srv.RegisterReserved(DiscoverMethod, s.discover, mopts...); err != nil {
		return nil, err
	}
	return s, nil
}

// discover is rpc.discover. It returns the encoded document, so that a
// call costs a copy, not an encoding.
func (s *Service) discover(ctx context.Context) (json.RawMessage, error) {
	snap, err := s.current()
	if err != nil {
		return nil, err
	}
	return snap.json, nil
}

// Document returns the current document. It is shared: do not change it.
func (s *Service) Document() (*Document, error) {
	snap, err := s.current()
	if err != nil {
		return nil, err
	}
	return snap.doc, nil
}

// JSON returns the current document, encoded. It is shared: do not change
// it.
func (s *Service) JSON() ([]byte, error) {
	snap, err := s.current()
	if err != nil {
		return nil, err
	}
	return snap.json, nil
}

func (s *Service) current() (*snapshot, error) {
	gen := s.srv.Generation()
	if snap := s.built.Load(); snap != nil && snap.generation == gen {
		return snap, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if snap := s.built.Load(); snap != nil && snap.generation == gen {
		return snap, nil
	}
	// Read the generation before the methods: if a registration slips in
	// between, the snapshot is newer than its generation says and is
	// merely rebuilt once more.
	gen = s.srv.Generation()
	doc, err := build(s.srv.Methods(), s.srv.Schemes(), s.cfg)
	if err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	b = append(b, '\n')
	sum := sha256.Sum256(b)
	snap := &snapshot{generation: gen, doc: doc, json: b, etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
	s.built.Store(snap)
	return snap, nil
}

// ServeHTTP answers GET and HEAD with the document as application/json,
// with an ETag so that a client can revalidate cheaply. Other methods get
// 405. When the document is protected, the request's headers must carry
// credentials that meet the requirement: without them the answer is 401,
// with valid ones lacking scopes 403, each with the JSON-RPC error as its
// body.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed: use GET", http.StatusMethodNotAllowed)
		return
	}
	if len(s.cfg.requirement) > 0 {
		// The engine checks the requirement, exactly as for rpc.discover.
		ctx := rpc.WithCredentials(r.Context(), s.srv.Authenticate(r.Header))
		if _, err := s.srv.Call(ctx, DiscoverMethod, nil); err != nil {
			var rerr *rpc.Error
			if !errors.As(err, &rerr) { // never so: Call's errors are *rpc.Error
				rerr = rpc.NewError(rpc.CodeInternalError, "Internal error", nil)
			}
			status := http.StatusInternalServerError
			switch rerr.Code {
			case rpc.CodeUnauthorized:
				status = http.StatusUnauthorized
			case rpc.CodeForbidden:
				status = http.StatusForbidden
			case rpc.CodeLimitExceeded:
				status = http.StatusTooManyRequests
			}
			body, _ := json.Marshal(map[string]any{"error": rerr})
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			w.Write(body)
			return
		}
	}
	snap, err := s.current()
	if err != nil {
		http.Error(w, "could not build the OpenRPC document", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("ETag", snap.etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(snap.json))
}
