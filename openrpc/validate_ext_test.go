package openrpc_test

import (
	"encoding/json"
	"testing"

	"github.com/wardenrpc/warden/internal/openrpctest"
	"github.com/wardenrpc/warden/openrpc"
)

// TestReferenceToolsAccept has @open-rpc/schema-utils-js validate the
// document of a registry with every tricky type, in both OpenRPC
// versions, and dereference it where its schemas are not recursive.
func TestReferenceToolsAccept(t *testing.T) {
	for _, tc := range []struct {
		name      string
		recursive bool
		version   string
	}{
		{"recursive 1.3", true, openrpc.Version1_3},
		{"recursive 1.4", true, openrpc.Version1_4},
		{"flat 1.3", false, openrpc.Version1_3},
		{"flat 1.4", false, openrpc.Version1_4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw, _ := buildJSON(t, tc.recursive, openrpc.WithOpenRPCVersion(tc.version))
			// Dereferencing a recursive schema does not end.
			v := openrpctest.Validate(t, raw, !tc.recursive)
			if !v.Valid {
				t.Errorf("validateOpenRPCDocument: %s", v.Errors)
			}
			if !v.SchemesValid {
				t.Errorf("x-security-schemes: %s", v.SchemesErrors)
			}
			if !tc.recursive && (!v.Dereferenced || v.Refs != 0) {
				t.Errorf("parseOpenRPCDocument: dereferenced %v, %d refs left: %s", v.Dereferenced, v.Refs, v.DerefError)
			}
		})
	}
}

// TestReferenceToolsCheckExtensions proves that the x-extensions
// declarations are applied: a document whose extensions break their
// declared schemas is refused.
func TestReferenceToolsCheckExtensions(t *testing.T) {
	_, doc := buildJSON(t, false)
	find := at(t, doc, "methods/users.find").(map[string]any)
	find["x-security"] = []any{map[string]any{"bearer": "read"}} // scopes must be a list
	raw, _ := json.Marshal(doc)
	if v := openrpctest.Validate(t, raw, false); v.Valid {
		t.Error("validateOpenRPCDocument accepted a malformed x-security")
	}

	_, doc = buildJSON(t, false)
	at(t, doc, "components/x-security-schemes/bearer").(map[string]any)["type"] = "magic"
	raw, _ = json.Marshal(doc)
	if v := openrpctest.Validate(t, raw, false); !v.Valid || v.SchemesValid {
		t.Errorf("a bad scheme type: valid %v (want true: components are not checked by schema-utils-js), schemes valid %v (want false)", v.Valid, v.SchemesValid)
	}
}
