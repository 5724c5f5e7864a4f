package rpc

import (
	"log/slog"
	"reflect"
)

// Server options and method options are small values passed to the
// constructor and to registration, as connect-go's are.

type config struct {
	logger            *slog.Logger
	debug             bool
	lenient           bool
	batchLimit        int
	batchConcurrency  int
	batchRespLimit    int
	depthLimit        int
	interceptors      []Interceptor
	batchInterceptors []BatchInterceptor
	schemes           []namedScheme
	providers         map[reflect.Type]provider
	subLimit          int // subscriptions per session; 0 means the default
	subBuffer         int // values per subscription; 0 means the default
}

// Option configures a [Server].
type Option func(*config)

// WithLogger sets the logger that receives handler errors, panics and
// authentication failures. The default discards everything. Failures a
// client can cause at will (handler errors, results that cannot be
// encoded, panics) are written at most once a second per method and kind.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.logger = l
		}
	}
}

// WithDebug adds the text of handler errors and panics to the data of the
// errors that callers see. Never turn it on in production: it can leak
// internals.
func WithDebug(on bool) Option { return func(c *config) { c.debug = on } }

// WithLenientParams relaxes param checking: unknown named params and extra
// positional params are ignored instead of answered with CodeInvalidParams.
func WithLenientParams() Option { return func(c *config) { c.lenient = true } }

// WithBatchLimit sets the most items a batch may hold (default 100). No
// item of a larger batch runs: it is answered with an array holding one
// CodeInvalidRequest error for each call in it, as the package
// documentation describes.
func WithBatchLimit(n int) Option { return func(c *config) { c.batchLimit = n } }

// WithBatchResponseLimit sets how many bytes of responses one batch may
// gather (default [DefaultBatchResponseLimit], 1 MiB). Responses are
// counted in request order; the one that passes the limit is still sent,
// and every call after it gets CodeLimitExceeded instead of running, with
// data {"limit":"batch_response_bytes","max":n}. Zero or less means no
// limit.
func WithBatchResponseLimit(n int) Option { return func(c *config) { c.batchRespLimit = n } }

// WithBatchConcurrency sets how many items of one batch run at once (default
// 8).
func WithBatchConcurrency(n int) Option { return func(c *config) { c.batchConcurrency = n } }

// WithDepthLimit sets the deepest nesting of arrays and objects a message
// may have (default 64).
func WithDepthLimit(n int) Option { return func(c *config) { c.depthLimit = n } }

// WithInterceptors adds interceptors. The first one given is the outermost.
// Each method's chain is built once, when it is registered.
func WithInterceptors(ics ...Interceptor) Option {
	return func(c *config) { c.interceptors = append(c.interceptors, ics...) }
}

// WithScheme declares a security scheme under name. Method requirements
// name declared schemes; naming another is a registration error.
func WithScheme(name string, s Scheme) Option {
	return func(c *config) {
		for i := range c.schemes {
			if c.schemes[i].name == name {
				c.schemes[i] = namedScheme{name, s, s.Info()}
				return
			}
		}
		c.schemes = append(c.schemes, namedScheme{name, s, s.Info()})
	}
}

// MethodOption configures one method at registration, as an argument of
// [Server.Register].
type MethodOption func(*methodConfig)

type methodConfig struct {
	names       []string
	namesSet    bool
	requirement Requirement
	summary     string
	description string
	tags        []string
	deprecated  bool
	examples    []Example
	errors      []*Error
	sub         *subscriptionSpec // set by RegisterSubscription
}

// Params names a method's JSON params, one name per argument that is
// neither a context nor injected, in order. A method with more than one
// such argument, or one that is not a struct, needs it.
func Params(names ...string) MethodOption {
	return func(c *methodConfig) { c.names, c.namesSet = names, true }
}

// Security sets the method's requirement. See [Requirement].
func Security(r Requirement) MethodOption {
	return func(c *methodConfig) { c.requirement = r }
}

// Summary sets the method's one-line summary.
func Summary(s string) MethodOption { return func(c *methodConfig) { c.summary = s } }

// Description sets the method's longer description.
func Description(s string) MethodOption { return func(c *methodConfig) { c.description = s } }

// Tags sets the method's tags.
func Tags(tags ...string) MethodOption { return func(c *methodConfig) { c.tags = tags } }

// Deprecated marks the method deprecated.
func Deprecated() MethodOption { return func(c *methodConfig) { c.deprecated = true } }

// Examples adds examples of the method's params and result.
func Examples(ex ...Example) MethodOption {
	return func(c *methodConfig) { c.examples = append(c.examples, ex...) }
}

// Errors documents errors the method may return.
func Errors(errs ...*Error) MethodOption {
	return func(c *methodConfig) { c.errors = append(c.errors, errs...) }
}
