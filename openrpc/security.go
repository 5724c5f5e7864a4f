package openrpc

import "github.com/wardenrpc/warden/rpc"

// The names of Warden's specification extensions.
const (
	ExtSecuritySchemes = "x-security-schemes" // in components: the declared schemes
	ExtSecurity        = "x-security"         // on a method: its requirement
)

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
