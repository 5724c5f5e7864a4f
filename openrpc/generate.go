package openrpc

import (
	"fmt"
	"reflect"
	"slices"
	"sort"

	"github.com/invopop/jsonschema"
	"github.com/wardenrpc/warden/rpc"
)

// DiscoverMethod is the name of the method that returns the document. It
// is not listed in the document's methods: OpenRPC reserves it, and
// clients know what it returns.
const DiscoverMethod = "rpc.discover"

// Build returns the OpenRPC document of the methods registered on srv,
// except rpc.discover. It reads the registry once and keeps nothing; to
// serve a document that follows the registry, use [Register].
func Build(srv *rpc.Server, opts ...Option) (*Document, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	return build(srv.Methods(), srv.Schemes(), cfg)
}

func build(all []*rpc.Method, schemes []rpc.DeclaredScheme, cfg *config) (doc *Document, err error) {
	var methods []*rpc.Method
	var roots []reflect.Type
	for _, m := range all {
		if m.Name == DiscoverMethod {
			continue
		}
		methods = append(methods, m)
		for _, p := range m.Params {
			roots = append(roots, p.Type)
		}
		if m.Result != nil {
			roots = append(roots, m.Result)
		}
		if m.Subscription != nil {
			roots = append(roots, m.Subscription.Value)
		}
	}
	if err := checkSignIn(cfg, methods, schemes); err != nil {
		return nil, err
	}
	sc, err := newSchemas(cfg, roots)
	if err != nil {
		return nil, err
	}
	defer func() {
		// invopop panics on types it cannot describe; registration has
		// already refused those, so this is a bug worth reporting well.
		if r := recover(); r != nil {
			doc, err = nil, fmt.Errorf("openrpc: generating schemas: %v", r)
		}
	}()

	doc = &Document{
		OpenRPC: cfg.version,
		Info:    cfg.info,
		Servers: slices.Clone(cfg.servers),
		Methods: make([]Method, 0, len(methods)),
	}
	for _, m := range methods {
		dm := method(m, sc)
		if scheme, ok := cfg.signIn[m.Name]; ok {
			dm.SignIn = &SignIn{Scheme: scheme}
		}
		doc.Methods = append(doc.Methods, dm)
	}
	addSubscriptions(doc, methods, sc)
	comp := &Components{}
	if len(sc.components) > 0 {
		comp.Schemas = sc.components
	}
	if len(schemes) > 0 {
		comp.SecuritySchemes = make(map[string]SecurityScheme, len(schemes))
		for _, ds := range schemes {
			comp.SecuritySchemes[ds.Name] = securityScheme(ds.Info)
		}
		doc.Extensions = securityExtensions()
		if len(cfg.signIn) > 0 {
			doc.Extensions = append(doc.Extensions, signInExtension())
		}
	}
	doc.Extensions = append(doc.Extensions, subscriptionExtensions(doc)...)
	if comp.Schemas != nil || comp.SecuritySchemes != nil {
		doc.Components = comp
	}
	return doc, nil
}

func method(m *rpc.Method, sc *schemas) Method {
	out := Method{
		Name:           m.Name,
		Summary:        m.Summary,
		Description:    m.Description,
		ParamStructure: "either", // every Warden method accepts params by position and by name
		Params:         make([]ContentDescriptor, 0, len(m.Params)),
		Deprecated:     m.Deprecated,
	}
	for _, t := range m.Tags {
		out.Tags = append(out.Tags, Tag{Name: t})
	}
	for _, p := range m.Params {
		cd := ContentDescriptor{Name: p.Name, Required: p.Required, Schema: sc.paramSchema(p)}
		if p.Variadic {
			// By name, a variadic param is an array. By position its
			// elements are spread over the remaining params, which
			// OpenRPC cannot say, so the document promises by-name only.
			cd.Schema = &jsonschema.Schema{Type: "array", Items: cd.Schema}
			out.ParamStructure = "by-name"
		}
		cd.Description = cd.Schema.Description
		out.Params = append(out.Params, cd)
	}
	if m.Result != nil {
		out.Result = &ContentDescriptor{Name: "result", Required: true, Schema: sc.schemaFor(m.Result)}
	} else {
		// The method answers a call with null.
		out.Result = &ContentDescriptor{Name: "result", Required: true, Schema: &jsonschema.Schema{Type: "null"}}
	}
	out.Errors = methodErrors(m)
	for _, ex := range m.Examples {
		out.Examples = append(out.Examples, example(ex))
	}
	for _, alt := range m.Requirement {
		a := make(map[string][]string, len(alt))
		for scheme, scopes := range alt {
			if scopes == nil {
				scopes = []string{}
			}
			a[scheme] = scopes
		}
		out.Security = append(out.Security, a)
	}
	return out
}

// methodErrors lists the errors a method can return that a caller can act
// on: those of its requirement and those it documents. A documented error
// replaces a framework one with the same code.
func methodErrors(m *rpc.Method) []Error {
	var out []Error
	add := func(e Error) {
		for i := range out {
			if out[i].Code == e.Code {
				out[i] = e
				return
			}
		}
		out = append(out, e)
	}
	if !m.Public() {
		add(Error{Code: rpc.CodeUnauthorized, Message: "Unauthorized"})
		if needsScopes(m.Requirement) {
			add(Error{Code: rpc.CodeForbidden, Message: "Forbidden"})
		}
	}
	for _, e := range m.Errors {
		if e != nil {
			add(Error{Code: e.Code, Message: e.Message, Data: e.Data})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Code > out[j].Code })
	return out
}

// needsScopes reports whether some alternative names a scope: only then
// can valid credentials be refused with -32003.
func needsScopes(r rpc.Requirement) bool {
	for _, alt := range r {
		for _, scopes := range alt {
			if len(scopes) > 0 {
				return true
			}
		}
	}
	return false
}

func example(ex rpc.Example) ExamplePairing {
	out := ExamplePairing{
		Name:        ex.Name,
		Summary:     ex.Summary,
		Description: ex.Description,
		Params:      make([]Example, 0, len(ex.Params)),
		Result:      &Example{Name: "result", Value: ex.Result},
	}
	for _, p := range ex.Params {
		out.Params = append(out.Params, Example{Name: p.Name, Value: p.Value})
	}
	return out
}
