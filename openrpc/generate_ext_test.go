package openrpc_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/wardenrpc/warden/openrpc"
	"github.com/wardenrpc/warden/openrpc/internal/fixture"
)

// tree is a document decoded into plain values, for assertions that read
// like paths.
type tree = map[string]any

func buildJSON(t *testing.T, recursive bool, opts ...openrpc.Option) ([]byte, tree) {
	t.Helper()
	doc, err := openrpc.Build(fixture.NewServer(recursive), opts...)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	var v tree
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return b, v
}

// at walks path ("methods/subtract/params/1/schema") through decoded JSON.
func at(t *testing.T, v any, path string) any {
	t.Helper()
	for _, k := range strings.Split(path, "/") {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[k]; !ok {
				t.Fatalf("%s: no %q", path, k)
			}
		case []any:
			i := -1
			for j, e := range x {
				if m, ok := e.(map[string]any); ok && m["name"] == k {
					i = j
				}
			}
			if i < 0 {
				if _, err := json.Number(k).Int64(); err == nil {
					n, _ := json.Number(k).Int64()
					i = int(n)
				}
			}
			if i < 0 || i >= len(x) {
				t.Fatalf("%s: no element %q", path, k)
			}
			v = x[i]
		default:
			t.Fatalf("%s: %q is not in a container", path, k)
		}
	}
	return v
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestSchemasAreComponents(t *testing.T) {
	raw, doc := buildJSON(t, true)
	if strings.Contains(string(raw), "$defs") {
		t.Error("the document still has $defs")
	}
	comps := at(t, doc, "components/schemas").(map[string]any)
	safe := regexp.MustCompile(`^[A-Za-z0-9_.]+$`)
	for key, s := range comps {
		if !safe.MatchString(key) {
			t.Errorf("component key %q is not safe", key)
		}
		if s.(map[string]any)["title"] != key {
			t.Errorf("component %s has title %v", key, s.(map[string]any)["title"])
		}
	}
	// Every reference points at a component.
	refs := regexp.MustCompile(`"\$ref": "([^"]*)"`).FindAllStringSubmatch(string(raw), -1)
	if len(refs) == 0 {
		t.Fatal("no references")
	}
	for _, m := range refs {
		key, ok := strings.CutPrefix(m[1], "#/components/schemas/")
		if !ok || comps[key] == nil {
			t.Errorf("dangling reference %s", m[1])
		}
	}
	for _, key := range []string{
		"fixture.User", "other.User", // same name, two packages
		"Page_User", "Pair_string_PtrUser", "Page_Pair_string_Listuint8", // generics
		"Node", "Tree", // recursive
		"Record", "Role", "Level", "Duration", // struct, enum, named scalars
	} {
		if comps[key] == nil {
			t.Errorf("no component %s; have %v", key, keys(comps))
		}
	}
	if comps["User"] != nil || comps["Audit"] != nil {
		t.Error("an ambiguous User or the embedded Audit became a component")
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestTrickyTypes(t *testing.T) {
	_, doc := buildJSON(t, true)
	rec := "components/schemas/Record/properties/"
	for path, want := range map[string]string{
		rec + "created":                      `{"format":"date-time","type":"string"}`,
		rec + "updated":                      `{"format":"date-time","type":"string"}`,
		rec + "blob":                         `{"contentEncoding":"base64","type":"string"}`,
		rec + "labels":                       `{"additionalProperties":{"type":"string"},"type":"object"}`,
		rec + "scores/patternProperties":     `{"^[0-9]+$":{"type":"number"}}`,
		rec + "owner":                        `{"allOf":[{"$ref":"#/components/schemas/fixture.User"}],"description":"Who owns the record."}`,
		rec + "level":                        `{"allOf":[{"$ref":"#/components/schemas/Level"}],"enum":[1,2,3]}`,
		rec + "color":                        `{"default":"red","enum":["red","green"],"type":"string"}`,
		rec + "other":                        `{"$ref":"#/components/schemas/other.User"}`,
		rec + "raw":                          `true`,
		"components/schemas/Role/enum":       `["admin","member","guest"]`,
		"components/schemas/Node/properties": `{"children":{"items":{"$ref":"#/components/schemas/Node"},"type":"array"},"parent":{"$ref":"#/components/schemas/Node"},"value":{"type":"string"}}`,
		"components/schemas/Tree":            `{"additionalProperties":{"$ref":"#/components/schemas/Tree"},"title":"Tree","type":"object"}`,
		"components/schemas/Page_User/properties/items/items": `{"$ref":"#/components/schemas/fixture.User"}`,
		"components/schemas/fixture.User/properties/name":     `{"maxLength":64,"minLength":1,"type":"string"}`,
	} {
		if got := js(at(t, doc, path)); got != want {
			t.Errorf("%s:\n got %s\nwant %s", path, got, want)
		}
	}
	if _, ok := at(t, doc, rec+"created").(map[string]any); !ok {
		t.Error("embedded fields are not promoted")
	}
	if req := js(at(t, doc, "components/schemas/Record/required")); strings.Contains(req, "updated") || !strings.Contains(req, "created") {
		t.Errorf("Record.required = %s", req)
	}
}

func TestMethods(t *testing.T) {
	_, doc := buildJSON(t, true)
	var names []string
	for _, m := range at(t, doc, "methods").([]any) {
		names = append(names, m.(map[string]any)["name"].(string))
	}
	if got := strings.Join(names, " "); got != "users.find users.pair tree.get records.put ping" {
		t.Errorf("methods: %s", got)
	}
	for path, want := range map[string]string{
		// The injected *Session is no param; the struct's fields are, in
		// order, with their tags and explicit required.
		"methods/users.find/params":         `[{"description":"Only users with this role.","name":"role","required":true,"schema":{"allOf":[{"$ref":"#/components/schemas/Role"}],"description":"Only users with this role."}},{"name":"limit","required":false,"schema":{"maximum":100,"minimum":1,"type":"integer"}},{"name":"after","required":false,"schema":{"format":"date-time","type":"string"}}]`,
		"methods/users.find/paramStructure": `"either"`,
		"methods/users.find/x-security":     `[{"bearer":["read"]},{"apiKey":[]}]`,
		"methods/users.find/errors":         `[{"code":-32001,"message":"Unauthorized"},{"code":-32003,"message":"Forbidden"},{"code":-32010,"message":"Too many results"}]`,
		"methods/users.find/tags":           `[{"name":"users"}]`,
		"methods/users.find/result":         `{"name":"result","required":true,"schema":{"$ref":"#/components/schemas/Page_User"}}`,
		// No scope is required, so valid credentials cannot be refused.
		"methods/users.pair/errors":          `[{"code":-32001,"message":"Unauthorized"}]`,
		"methods/tree.get/deprecated":        `true`,
		"methods/tree.get/description":       `"Returns a tree."`,
		"methods/tree.get/params/root":       `{"name":"root","required":false,"schema":{"$ref":"#/components/schemas/Node"}}`,
		"methods/records.put/paramStructure": `"by-name"`,
		"methods/records.put/params/tags":    `{"name":"tags","required":false,"schema":{"items":{"type":"string"},"type":"array"}}`,
		"methods/records.put/examples":       `[{"name":"put","params":[{"name":"record","value":{"blob":"AA=="}},{"name":"level","value":1},{"name":"tags","value":["x"]}],"result":{"name":"result","value":{"items":[]}}}]`,
		"methods/ping":                       `{"name":"ping","paramStructure":"either","params":[],"result":{"name":"result","required":true,"schema":{"type":"null"}}}`,
		"components/x-security-schemes":      `{"apiKey":{"in":"header","name":"X-API-Key","type":"apiKey"},"bearer":{"bearerFormat":"JWT","description":"A signed access token.","scheme":"bearer","scopes":{"admin":"Manage users.","read":"Read records."},"type":"http"}}`,
	} {
		if got := js(at(t, doc, path)); got != want {
			t.Errorf("%s:\n got %s\nwant %s", path, got, want)
		}
	}
	var ext []string
	for _, e := range at(t, doc, "x-extensions").([]any) {
		e := e.(map[string]any)
		ext = append(ext, js(e["name"])+js(e["restricted"]))
	}
	if got := strings.Join(ext, " "); got != `"x-security-schemes"[] "x-security"["methodObject"]` {
		t.Errorf("x-extensions: %s", got)
	}
}

func TestInfoAndVersion(t *testing.T) {
	_, doc := buildJSON(t, false,
		openrpc.WithOpenRPCVersion(openrpc.Version1_4),
		openrpc.WithInfo(openrpc.Info{Title: "T", Version: "2.0.0", Description: "D", License: &openrpc.License{Name: "MIT", URL: "https://opensource.org/license/mit"}}),
		openrpc.WithServers(openrpc.Server{Name: "local", URL: "http://127.0.0.1:1/"}))
	for path, want := range map[string]string{
		"openrpc": `"1.4.0"`,
		"info":    `{"description":"D","license":{"name":"MIT","url":"https://opensource.org/license/mit"},"title":"T","version":"2.0.0"}`,
		"servers": `[{"name":"local","url":"http://127.0.0.1:1/"}]`,
	} {
		if got := js(at(t, doc, path)); got != want {
			t.Errorf("%s:\n got %s\nwant %s", path, got, want)
		}
	}
	if _, doc := buildJSON(t, false); js(doc["openrpc"]) != `"1.3.2"` {
		t.Errorf("default version %v", doc["openrpc"])
	}
	for _, bad := range []openrpc.Option{openrpc.WithOpenRPCVersion("1.2.6"), openrpc.WithOpenRPCVersion("2.0.0"), openrpc.WithInfo(openrpc.Info{Title: "no version"})} {
		if _, err := openrpc.Build(fixture.NewServer(false), bad); err == nil {
			t.Error("a bad option was accepted")
		}
	}
}

func TestGoComments(t *testing.T) {
	_, doc := buildJSON(t, false,
		openrpc.WithGoComments("github.com/wardenrpc/warden/openrpc", "./internal/fixture"),
		openrpc.WithDescriptions(map[string]string{"github.com/wardenrpc/warden/openrpc/internal/fixture.Level": "How loud."}))
	for path, want := range map[string]string{
		"components/schemas/fixture.User/description":                 `"User is a user as this package sees it."`,
		"components/schemas/fixture.User/properties/role/description": `"Role is what the user may do."`,
		"components/schemas/Page_User/description":                    `"Page is a generic page of items."`,
		"components/schemas/Level/description":                        `"How loud."`,
	} {
		if got := js(at(t, doc, path)); got != want {
			t.Errorf("%s:\n got %s\nwant %s", path, got, want)
		}
	}
	// Without the option, no comments.
	if _, doc := buildJSON(t, false); at(t, doc, "components/schemas/fixture.User").(map[string]any)["description"] != nil {
		t.Error("comments without asking")
	}
	if _, err := openrpc.Build(fixture.NewServer(false), openrpc.WithGoComments("x", "./no/such/dir")); err == nil {
		t.Error("a missing source directory was accepted")
	}
}
