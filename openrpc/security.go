package openrpc

import (
	"fmt"
	"sort"

	"github.com/wardenrpc/warden/rpc"
)

// The names of Warden's specification extensions.
const (
	ExtSecuritySchemes = "x-security-schemes" // in components: the declared schemes
	ExtSecurity        = "x-security"         // on a method: its requirement
	ExtSignIn          = "x-sign-in"          // on a method: it returns a credential
)

// SignIn is the value of x-sign-in: it marks a method whose result is an
// OAuth 2.0 token response (RFC 6749, section 5.1), an object whose
// "access_token" is a credential for Scheme, and which may also hold
// "refresh_token" and "expires_in". A client such as the page of
// [DocsHandler] calls the method with the user's params and presents the
// token to the methods that need Scheme.
type SignIn struct {
	// Scheme names the declared scheme, in components.x-security-schemes,
	// that the access token is for.
	Scheme string `json:"scheme"`
}

// WithSignIn marks method as a sign-in method: one that takes what a user
// knows, such as a username and a password, and returns an OAuth 2.0
// token response whose access_token is a credential for scheme. The
// method's document entry then carries x-sign-in, declared in the root
// x-extensions. Building the document fails when method is not registered
// or scheme is not declared.
func WithSignIn(method, scheme string) Option {
	return func(c *config) {
		if c.signIn == nil {
			c.signIn = map[string]string{}
		}
		c.signIn[method] = scheme
	}
}

// checkSignIn reports a WithSignIn that names no registered method or no
// declared scheme, in a stable order.
func checkSignIn(cfg *config, methods []*rpc.Method, schemes []rpc.DeclaredScheme) error {
	names := make([]string, 0, len(cfg.signIn))
	for m := range cfg.signIn {
		names = append(names, m)
	}
	sort.Strings(names)
	for _, name := range names {
		found := false
		for _, m := range methods {
			found = found || m.Name == name
		}
		if !found {
			return fmt.Errorf("openrpc: WithSignIn: no method %q is registered", name)
		}
		scheme, declared := cfg.signIn[name], false
		for _, ds := range schemes {
			declared = declared || ds.Name == scheme
		}
		if !declared {
			return fmt.Errorf("openrpc: WithSignIn(%q): no scheme %q is declared", name, scheme)
		}
	}
	return nil
}

func securityScheme(info rpc.SchemeInfo) SecurityScheme {
	return SecurityScheme{
		Type:         info.Type,
		Scheme:       info.Scheme,
		BearerFormat: info.BearerFormat,
		In:           info.In,
		Name:         info.Name,
		Description:  info.Description,
		Scopes:       info.Scopes,
	}
}

// securityExtensions declares Warden's extensions in the root
// "x-extensions", in the shape @open-rpc/specification-extension-spec
// defines and @open-rpc/schema-utils-js applies.
//
// schema-utils-js adds each extension's schema to the meta-schema
// definitions that "restricted" names, so a validator checks the value
// wherever it appears on those objects. The names must be definitions of
// the OpenRPC meta-schema ("methodObject", "contentDescriptorObject", ...);
// an unknown name makes validation throw, and a missing "restricted" list
// does too. The components object is not a definition in the 1.3 or 1.4
// meta-schemas, so x-security-schemes is declared with an empty list: the
// declaration and its schema are there for tools, which must check the
// value themselves (Warden's own tests do, with the same schema).
func securityExtensions() []Extension {
	return []Extension{
		{
			OpenRPCExtension: "0.0.0-development",
			Name:             ExtSecuritySchemes,
			Version:          "1.0.0",
			Summary:          "Security schemes",
			Description: "The security schemes that methods name in x-security, by name, " +
				"as OpenAPI's Security Scheme Objects describe them.",
			Restricted: []string{},
			Schema:     securitySchemesSchema(),
		},
		{
			OpenRPCExtension: "0.0.0-development",
			Name:             ExtSecurity,
			Version:          "1.0.0",
			Summary:          "Security requirement",
			Description: "The method's security requirement, as in OpenAPI: a list of alternatives, " +
				"any one of which suffices; each maps names of schemes in components.x-security-schemes " +
				"to the scopes it needs, all of which are required. Calls that fail it get -32001 (Unauthorized) " +
				"or -32003 (Forbidden).",
			Restricted: []string{"methodObject"},
			Schema:     securitySchema(),
		},
	}
}

// signInExtension declares x-sign-in, restricted to method objects so
// that validators check its value.
func signInExtension() Extension {
	return Extension{
		OpenRPCExtension: "0.0.0-development",
		Name:             ExtSignIn,
		Version:          "1.0.0",
		Summary:          "Sign-in method",
		Description: "Marks a method that exchanges what a user knows for a credential: its result is an OAuth 2.0 " +
			"token response (RFC 6749, section 5.1) whose access_token is a credential for the scheme named here, " +
			"one of components.x-security-schemes.",
		Restricted: []string{"methodObject"},
		Schema: map[string]any{
			"type":                 "object",
			"required":             []string{"scheme"},
			"additionalProperties": false,
			"properties": map[string]any{
				"scheme": map[string]any{"type": "string", "minLength": 1},
			},
		},
	}
}

func securitySchema() map[string]any {
	return map[string]any{
		"type":     "array",
		"minItems": 1,
		"items": map[string]any{
			"type":          "object",
			"minProperties": 1,
			"additionalProperties": map[string]any{
				"type":        "array",
				"uniqueItems": true,
				"items":       map[string]any{"type": "string", "pattern": `^[!#-\[\]-~]+$`},
			},
		},
	}
}

func securitySchemesSchema() map[string]any {
	return map[string]any{
		"type": "object",
		"additionalProperties": map[string]any{
			"type":                 "object",
			"required":             []string{"type"},
			"additionalProperties": false,
			"properties": map[string]any{
				"type":         map[string]any{"type": "string", "enum": []string{"http", "apiKey", "oauth2", "openIdConnect", "mutualTLS"}},
				"scheme":       map[string]any{"type": "string"},
				"bearerFormat": map[string]any{"type": "string"},
				"in":           map[string]any{"type": "string", "enum": []string{"header", "query", "cookie"}},
				"name":         map[string]any{"type": "string"},
				"description":  map[string]any{"type": "string"},
				"scopes": map[string]any{
					"type":                 "object",
					"additionalProperties": map[string]any{"type": "string"},
				},
			},
		},
	}
}
