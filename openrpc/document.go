package openrpc

import "github.com/invopop/jsonschema"

// Document is an OpenRPC document. Its fields follow the OpenRPC
// specification (https://spec.open-rpc.org), with Warden's security
// extensions: [Components.SecuritySchemes] ("x-security-schemes"),
// [Method.Security] ("x-security") and [Method.SignIn] ("x-sign-in"), all
// declared in [Document.Extensions] ("x-extensions").
type Document struct {
	OpenRPC    string      `json:"openrpc"`
	Info       Info        `json:"info"`
	Servers    []Server    `json:"servers,omitempty"`
	Methods    []Method    `json:"methods"`
	Components *Components `json:"components,omitempty"`
	Extensions []Extension `json:"x-extensions,omitempty"`
}

// Info describes the API: its title and version are required.
type Info struct {
	Title          string   `json:"title"`
	Description    string   `json:"description,omitempty"`
	TermsOfService string   `json:"termsOfService,omitempty"`
	Contact        *Contact `json:"contact,omitempty"`
	License        *License `json:"license,omitempty"`
	Version        string   `json:"version"`
}

// Contact is who to ask about the API.
type Contact struct {
	Name  string `json:"name,omitempty"`
	URL   string `json:"url,omitempty"`
	Email string `json:"email,omitempty"`
}

// License is the license the API is offered under.
type License struct {
	Name string `json:"name"`
	URL  string `json:"url,omitempty"`
}

// Server is a place where the API is served: OpenRPC's Server Object,
// listed with [WithServers]. It is not [rpc.Server], the engine that
// serves the API.
type Server struct {
	Name        string `json:"name,omitempty"`
	URL         string `json:"url"`
	Summary     string `json:"summary,omitempty"`
	Description string `json:"description,omitempty"`
}

// Method describes one JSON-RPC method: OpenRPC's Method Object, built
// from the registered [rpc.Method] of the same name.
//
// ParamStructure is "either", since a Warden method takes params by
// position and by name, or "by-name" for a method with a variadic param,
// whose elements by position OpenRPC cannot describe.
type Method struct {
	Name           string              `json:"name"`
	Summary        string              `json:"summary,omitempty"`
	Description    string              `json:"description,omitempty"`
	Tags           []Tag               `json:"tags,omitempty"`
	ParamStructure string              `json:"paramStructure,omitempty"`
	Params         []ContentDescriptor `json:"params"`
	Result         *ContentDescriptor  `json:"result,omitempty"`
	Errors         []Error             `json:"errors,omitempty"`
	Examples       []ExamplePairing    `json:"examples,omitempty"`
	Deprecated     bool                `json:"deprecated,omitempty"`
	// Security is the method's requirement: alternatives, any one of
	// which suffices, each mapping scheme names to the scopes it needs.
	// It is absent on public methods.
	Security []map[string][]string `json:"x-security,omitempty"`
	// SignIn marks the method that exchanges credentials for a token
	// ([WithSignIn]). It is absent on other methods.
	SignIn *SignIn `json:"x-sign-in,omitempty"`
	// Subscription describes the notifications of a subscribe method
	// ([rpc.Server.RegisterSubscription]). It is absent on other methods.
	Subscription *Subscription `json:"x-subscription,omitempty"`
}

// Tag groups methods.
type Tag struct {
	Name        string `json:"name"`
	Summary     string `json:"summary,omitempty"`
	Description string `json:"description,omitempty"`
}

// ContentDescriptor describes a param or a result. Required is always
// written, so that no reader has to know OpenRPC's default.
type ContentDescriptor struct {
	Name        string             `json:"name"`
	Summary     string             `json:"summary,omitempty"`
	Description string             `json:"description,omitempty"`
	Required    bool               `json:"required"`
	Schema      *jsonschema.Schema `json:"schema"`
	Deprecated  bool               `json:"deprecated,omitempty"`
}

// Error is an error a method may return: OpenRPC's Error Object, built
// from the [rpc.Error] values of [rpc.Errors] and from the method's
// requirement. An rpc.Error is what a handler returns; this is its entry
// in the document.
type Error struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    any    `json:"data,omitempty"`
}

// ExamplePairing is an example call: params and the result they give,
// built from an [rpc.Example].
type ExamplePairing struct {
	Name        string    `json:"name"`
	Summary     string    `json:"summary,omitempty"`
	Description string    `json:"description,omitempty"`
	Params      []Example `json:"params"`
	Result      *Example  `json:"result,omitempty"`
}

// Example is one example value, a param or a result of an
// [ExamplePairing]; it is not [rpc.Example], which is the whole pairing.
// Value is always written, even when it is null, because a null result is
// a result.
type Example struct {
	Name        string `json:"name"`
	Summary     string `json:"summary,omitempty"`
	Description string `json:"description,omitempty"`
	Value       any    `json:"value"`
}

// Components holds the named schemas that methods refer to with
// "#/components/schemas/NAME", and the security schemes.
type Components struct {
	Schemas         map[string]*jsonschema.Schema `json:"schemas,omitempty"`
	SecuritySchemes map[string]SecurityScheme     `json:"x-security-schemes,omitempty"`
}

// SecurityScheme describes a declared scheme as OpenAPI's Security Scheme
// Object does.
type SecurityScheme struct {
	Type         string            `json:"type"`
	Scheme       string            `json:"scheme,omitempty"`
	BearerFormat string            `json:"bearerFormat,omitempty"`
	In           string            `json:"in,omitempty"`
	Name         string            `json:"name,omitempty"`
	Description  string            `json:"description,omitempty"`
	Scopes       map[string]string `json:"scopes,omitempty"`
}

// Extension declares a specification extension in the root
// "x-extensions" list, as @open-rpc/specification-extension-spec defines
// it. Restricted names the meta-schema objects ("methodObject", ...) that
// may carry the extension; validators add Schema to those objects.
type Extension struct {
	OpenRPCExtension string         `json:"openrpcExtension"`
	Name             string         `json:"name"`
	Version          string         `json:"version"`
	Summary          string         `json:"summary,omitempty"`
	Description      string         `json:"description,omitempty"`
	Restricted       []string       `json:"restricted"`
	Schema           map[string]any `json:"schema"`
}
