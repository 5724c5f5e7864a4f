package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"testing"

	"github.com/wardenrpc/warden/internal/openrpctest"
)

// The document shows x-security on exactly the protected methods,
// rpc.discover serves what GET /openrpc.json does, and
// @open-rpc/schema-utils-js accepts it.
func TestOpenRPCDocument(t *testing.T) {
	t.Parallel()
	s := start(t, "")
	resp, err := http.Get("http://" + s.addr + "/openrpc.json")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /openrpc.json: %s", resp.Status)
	}
	var discovered json.RawMessage
	if err := dial(t, s.url("ws")).Call(ctxT(t), "rpc.discover", nil, &discovered); err != nil {
		t.Fatal(err)
	}
	var a, b bytes.Buffer
	if err := json.Compact(&a, body); err != nil {
		t.Fatalf("GET /openrpc.json: %v", err)
	}
	if err := json.Compact(&b, discovered); err != nil {
		t.Fatalf("rpc.discover: %v", err)
	}
	if a.String() != b.String() {
		t.Errorf("rpc.discover and GET /openrpc.json differ")
	}

	var doc struct {
		Methods []struct {
			Name     string                `json:"name"`
			Security []map[string][]string `json:"x-security"`
			Params   []struct {
				Name string `json:"name"`
			} `json:"params"`
		} `json:"methods"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	var protected, all []string
	for _, m := range doc.Methods {
		all = append(all, m.Name)
		if m.Security != nil {
			protected = append(protected, m.Name)
		}
		if m.Name == "list_users" && (len(m.Security) != 1 || !slices.Equal(m.Security[0]["bearer"], []string{"admin"})) {
			t.Errorf("list_users x-security: %v", m.Security)
		}
		if m.Name == "sign_up" && len(m.Params) != 2 {
			t.Errorf("sign_up params: %+v", m.Params)
		}
	}
	slices.Sort(protected)
	if want := []string{"audit_subscribe", "change_password", "delete_user", "list_users", "require_token", "sign_out"}; !slices.Equal(protected, want) {
		t.Errorf("methods with x-security: %v, want %v (all: %v)", protected, want, all)
	}
	for _, m := range []string{"sign_up", "sign_in", "require_token", "refresh", "sign_out", "list_users"} {
		if !slices.Contains(all, m) {
			t.Errorf("the document lacks %s", m)
		}
	}

	v := openrpctest.Validate(t, body, true)
	if !v.Valid {
		t.Errorf("validateOpenRPCDocument: %s", v.Errors)
	}
	if !v.SchemesValid {
		t.Errorf("x-security-schemes: %s", v.SchemesErrors)
	}
	if !v.Dereferenced {
		t.Errorf("parseOpenRPCDocument: %s", v.DerefError)
	}
}
