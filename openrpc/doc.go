// Package openrpc describes a Warden server in an OpenRPC document
// (https://spec.open-rpc.org) and serves it, by rpc.discover and over HTTP.
//
// # Serving the document
//
// One call registers rpc.discover; the [Service] it returns is also an
// [net/http.Handler] for GET /openrpc.json:
//
//	docs, err := openrpc.Register(srv,
//		openrpc.WithInfo(openrpc.Info{Title: "Accounts", Version: "1.2.0"}),
//		openrpc.WithServers(openrpc.Server{URL: "https://api.example.com/"}))
//	mux.Handle("GET /openrpc.json", docs)
//
// The document is built from the registry on first use and kept, encoded,
// until [rpc.Server.Generation] says the registry changed. [Build] makes a
// one-off document without registering anything, for tools that write it
// to a file. [WithRequirement] protects the document with an
// [rpc.Requirement]: rpc.discover is then checked by the engine like any
// protected method, and the HTTP handler runs the same check on its
// request's headers (401 or 403 when it fails).
//
// rpc.discover itself is not listed in the document's methods: the name is
// OpenRPC's, and its result would need the OpenRPC meta-schema, which
// lives on the network. Other framework methods ("rpc."-prefixed, such as
// a transport's sign-in) are listed like any other.
//
// # Methods
//
// Every registered method becomes a method object with its name, summary,
// description, tags, deprecation and examples; paramStructure "either"
// (Warden accepts both); params as content descriptors, in positional
// order, with required always written; and a result, whose schema is
// {"type":"null"} for a method that returns only an error, because such a
// method answers a call with null. A variadic param is described as an
// array of its element type and makes the method "by-name": by position
// its elements are spread over the params, which OpenRPC cannot say.
// Injected arguments are not params, so they never appear.
//
// Errors list what a caller can act on: -32001 (Unauthorized) for a
// protected method, -32003 (Forbidden) when some alternative of its
// requirement needs scopes (otherwise valid credentials always pass), and
// the errors the method documents with [rpc.Errors], which replace a
// framework error of the same code.
//
// # Schemas
//
// Schemas come from github.com/invopop/jsonschema. Every named type of a
// param or result, structs and also named maps, slices and scalars, is put
// under #/components/schemas/KEY with its key as title, and referred to
// from everywhere else; no "$defs" is left. The key is the type's name
// when that is unique in the document; same-named types of different
// packages are all qualified with their package ("alpha.User",
// "beta.User"), then their import path if needed. A generic instance's
// type arguments join the name without their import paths and brackets:
// Page[example.com/x.Item] is "Page_Item". Recursive types refer to
// themselves. []byte is a base64 string, time.Time a date-time string,
// json.RawMessage any value, a type with its own MarshalJSON any value
// unless it has a JSONSchema method, and a TextMarshaler a string.
// Embedded structs' fields are promoted, as encoding/json does. jsonschema
// struct tags apply, also on the fields of a params struct. Because
// OpenRPC's schemas are draft-07, in which keywords beside "$ref" are
// ignored, a reference that carries keywords (a field's description, say)
// is written as {"allOf":[{"$ref":...}], ...keywords}. [WithGoComments]
// or [WithDescriptions] turn doc comments into descriptions.
//
// # Security
//
// Declared schemes go under components.x-security-schemes, with type,
// scheme, bearerFormat, in, name, description and scopes with their
// descriptions, from [rpc.SchemeInfo]. A protected method carries its
// requirement as x-security: a list of alternatives, each mapping scheme
// names to scopes. Both extensions are declared in the root x-extensions
// (when any scheme is declared), as @open-rpc/schema-utils-js applies them:
// x-security is restricted to "methodObject", so validateOpenRPCDocument
// checks every method's value against its schema. The components object
// is no definition of the 1.3 or 1.4 meta-schema, and naming an unknown
// object makes validation throw, so x-security-schemes is declared with an
// empty restricted list; its schema is in the declaration for tools to
// apply.
//
// # Versions
//
// Documents declare OpenRPC 1.3.2 unless [WithOpenRPCVersion] asks for a
// 1.4.x version; the content is the same.
package openrpc
