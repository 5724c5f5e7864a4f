package openrpc

import (
	"fmt"
	"regexp"

	"github.com/wardenrpc/warden/rpc"
)

// OpenRPC specification versions that a document can declare.
const (
	Version1_3 = "1.3.2" // the default
	Version1_4 = "1.4.0"
)

// Option configures document generation and, for [Register], the
// rpc.discover method.
type Option func(*config)

type config struct {
	version     string
	info        Info
	servers     []Server
	requirement rpc.Requirement
	signIn      map[string]string // sign-in method -> scheme, from WithSignIn
	comments    []commentSource
	commentMap  map[string]string
}

type commentSource struct{ base, dir string }

func newConfig(opts []Option) (*config, error) {
	c := &config{version: Version1_3, info: Info{Title: "JSON-RPC API", Version: "0.0.0"}}
	for _, o := range opts {
		o(c)
	}
	if !validVersion.MatchString(c.version) {
		return nil, fmt.Errorf("openrpc: unsupported OpenRPC version %q: want 1.3.x or 1.4.x", c.version)
	}
	if c.info.Title == "" || c.info.Version == "" {
		return nil, fmt.Errorf("openrpc: info needs a title and a version")
	}
	return c, nil
}

var validVersion = regexp.MustCompile(`^1\.[34]\.\d+$`)

// WithOpenRPCVersion sets the OpenRPC version the document declares:
// [Version1_3] (the default) or a 1.4.x version such as [Version1_4].
// Anything else is an error when the document is built.
func WithOpenRPCVersion(v string) Option { return func(c *config) { c.version = v } }

// WithInfo sets the document's info object: title, version, description,
// license and contact. Title and version are required; they default to
// "JSON-RPC API" and "0.0.0".
func WithInfo(info Info) Option { return func(c *config) { c.info = info } }

// WithServers lists where the API is served.
func WithServers(servers ...Server) Option {
	return func(c *config) { c.servers = append(c.servers, servers...) }
}

// WithRequirement protects rpc.discover, and the HTTP handler of
// [Register], with a requirement: only callers who meet it may read the
// document. Without it the document is public.
func WithRequirement(r rpc.Requirement) Option { return func(c *config) { c.requirement = r } }

// WithGoComments turns the Go doc comments of the types and struct fields
// in the source directory dir into schema descriptions. base is the
// import path of the module whose root is the current directory, as
// go.mod names it, and dir is relative to it (for example
// "github.com/you/app" and "./api"). The source is read when the document
// is first built, so it must be present at run time; this is meant for
// tools that write the document to a file and for servers run from their
// source tree.
func WithGoComments(base, dir string) Option {
	return func(c *config) { c.comments = append(c.comments, commentSource{base, dir}) }
}

// WithDescriptions adds descriptions by key: "IMPORTPATH.Type" for a type
// and "IMPORTPATH.Type.Field" for a struct field (the Go field name). It
// serves a program that embeds its doc comments instead of reading source
// at run time, and keys added here win over [WithGoComments].
func WithDescriptions(m map[string]string) Option {
	return func(c *config) {
		if c.commentMap == nil {
			c.commentMap = map[string]string{}
		}
		for k, v := range m {
			c.commentMap[k] = v
		}
	}
}
