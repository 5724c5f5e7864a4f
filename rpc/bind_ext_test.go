package rpc_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/wardenrpc/warden/rpc"
)

type inner struct {
	Name string `json:"name"`
}

// structParams exercises the struct form: field order is position, json
// tags are names, pointers and omitempty/omitzero fields are optional.
type structParams struct {
	A     int    `json:"a"`
	B     string `json:"b"`
	C     *int   `json:"c"`
	D     int    `json:"d,omitempty"`
	E     bool   `json:"e,omitzero"`
	In    *inner `json:"in"`
	Plain string `json:",omitempty"` // named by the field
	skip  int    //nolint:unused // unexported: never a param
	Dash  int    `json:"-"`
}

func (p structParams) String() string {
	c := "nil"
	if p.C != nil {
		c = fmt.Sprint(*p.C)
	}
	in := "nil"
	if p.In != nil {
		in = p.In.Name
	}
	return fmt.Sprintf("a=%d b=%s c=%s d=%d e=%v in=%s plain=%s", p.A, p.B, c, p.D, p.E, in, p.Plain)
}

// Base is embedded in params structs.
type Base struct {
	X int `json:"x"`
}

func newBindServer(t *testing.T, opts ...rpc.Option) *rpc.Server {
	t.Helper()
	s := rpc.NewServer(opts...)
	s.MustRegister("struct", func(p structParams) string { return p.String() })
	s.MustRegister("structptr", func(ctx context.Context, p *structParams) (string, error) { return p.String(), nil })
	s.MustRegister("args", func(a int, b string, c *int, d *string) string {
		c2, d2 := "nil", "nil"
		if c != nil {
			c2 = fmt.Sprint(*c)
		}
		if d != nil {
			d2 = *d
		}
		return fmt.Sprintf("a=%d b=%s c=%s d=%s", a, b, c2, d2)
	}, rpc.Params("a", "b", "c", "d"))
	// A pointer that is not trailing is required.
	s.MustRegister("leadptr", func(a *int, b int) int { return *a + b }, rpc.Params("a", "b"))
	s.MustRegister("variadic", func(sep string, parts ...string) string { return strings.Join(parts, sep) }, rpc.Params("sep", "parts"))
	s.MustRegister("none", func() string { return "none" })
	s.MustRegister("nested", func(in inner) string { return in.Name }, rpc.Params("in"))
	s.MustRegister("list", func(xs []inner) int { return len(xs) }, rpc.Params("xs"))
	s.MustRegister("any", func(v any) string { return fmt.Sprintf("%T %v", v, v) }, rpc.Params("v"))
	// A struct param is decoded strictly; an any inside it must still
	// decode as encoding/json would.
	s.MustRegister("anyfield", func(p struct {
		V any `json:"v"`
	}) string {
		return fmt.Sprintf("%T %v", p.V, p.V)
	}, rpc.Params("p"))
	// Embedded structs follow encoding/json: untagged ones promote their
	// fields, a tagged one is one param, and "-" hides it.
	s.MustRegister("embedded", func(p struct {
		Base
		Y int `json:"y"`
	}) int {
		return p.X*10 + p.Y
	})
	s.MustRegister("embeddedtagged", func(p struct {
		Base `json:"base"`
		Y    int `json:"y"`
	}) int {
		return p.X*10 + p.Y
	})
	s.MustRegister("embeddedhidden", func(p struct {
		Base `json:"-"`
		Y    int `json:"y"`
	}) int {
		return p.X*10 + p.Y
	})
	s.MustRegister("ints", func(xs []int) int { return len(xs) }, rpc.Params("xs"))
	return s
}

func TestBinding(t *testing.T) {
	tests := []struct {
		method, params string
		result         string // JSON result, or "" when an error is expected
		param          string // for an error: the param named in data
		problem        string // for an error: a fragment of the problem
	}{
		// Struct form, by position and by name.
		{"struct", `[1, "x"]`, `"a=1 b=x c=nil d=0 e=false in=nil plain="`, "", ""},
		{"struct", `{"b": "x", "a": 1}`, `"a=1 b=x c=nil d=0 e=false in=nil plain="`, "", ""},
		{"struct", `[1, "x", 3, 4, true, {"name": "n"}, "p"]`, `"a=1 b=x c=3 d=4 e=true in=n plain=p"`, "", ""},
		{"struct", `{"a": 1, "b": "x", "c": 3, "d": 4, "e": true, "in": {"name": "n"}, "Plain": "p"}`, `"a=1 b=x c=3 d=4 e=true in=n plain=p"`, "", ""},
		{"structptr", `{"a": 1, "b": "x", "c": 0}`, `"a=1 b=x c=0 d=0 e=false in=nil plain="`, "", ""},
		{"struct", `[1]`, "", "b", "missing required"},
		{"struct", `{"b": "x"}`, "", "a", "missing required"},
		{"struct", `{"a": 1, "b": "x", "Plain": "p", "skip": 1}`, "", "skip", "unknown param"},
		{"struct", `{"a": 1, "b": "x", "Dash": 1}`, "", "Dash", "unknown param"},
		{"struct", `{"a": 1, "b": "x", "B": "y"}`, "", "B", "unknown param"},
		{"struct", `[1, "x", null, null, null, null, null, 8]`, "", "params[7]", "unexpected positional"},
		{"struct", `{"a": "1", "b": "x"}`, "", "a", "expected an integer"},
		{"struct", `{"a": 1.5, "b": "x"}`, "", "a", "expected an integer"},
		{"struct", `{"a": 1e400, "b": "x"}`, "", "a", "expected an integer"},
		{"struct", `{"a": 1, "b": 2}`, "", "b", "expected a string"},
		{"struct", `{"a": 1, "b": "x", "in": {"name": "n", "age": 3}}`, "", "in", "unknown field"},
		{"struct", `{"a": 1, "b": "x", "in": {"name": 3}}`, "", "in.name", "expected a string"},
		{"struct", `{"a": 1, "b": "x", "in": []}`, "", "in", "expected an object"},
		// Null counts as absent.
		{"struct", `{"a": 1, "b": null}`, "", "b", "missing required"},
		{"struct", `[1, "x", null]`, `"a=1 b=x c=nil d=0 e=false in=nil plain="`, "", ""},
		{"struct", `{"a": 1, "b": "x", "c": null, "in": null}`, `"a=1 b=x c=nil d=0 e=false in=nil plain="`, "", ""},
		{"struct", `null`, "", "a", "missing required"},
		{"struct", ``, "", "a", "missing required"},
		// Args form: trailing pointers are optional.
		{"args", `[1, "x"]`, `"a=1 b=x c=nil d=nil"`, "", ""},
		{"args", `[1, "x", 2]`, `"a=1 b=x c=2 d=nil"`, "", ""},
		{"args", `[1, "x", null, "y"]`, `"a=1 b=x c=nil d=y"`, "", ""},
		{"args", `{"d": "y", "a": 1, "b": "x"}`, `"a=1 b=x c=nil d=y"`, "", ""},
		{"args", `{"a": 1}`, "", "b", "missing required"},
		{"args", `[1, "x", 2, "y", 5]`, "", "params[4]", "unexpected positional"},
		{"args", `{"a": 1, "b": "x", "e": 1}`, "", "e", "unknown param"},
		{"args", `{"a": 1, "b": "x", "c": "2"}`, "", "c", "expected an integer"},
		{"args", `["1", "x"]`, "", "a", "expected an integer"},
		{"args", `{"a": 1, "a": 2, "b": "x"}`, "", "a", "duplicate"},
		{"leadptr", `[null, 2]`, "", "a", "missing required"},
		{"leadptr", `[1, 2]`, `3`, "", ""},
		// Variadic: the rest by position, an array by name, absent is empty.
		{"variadic", `["-", "a", "b", "c"]`, `"a-b-c"`, "", ""},
		{"variadic", `["-"]`, `""`, "", ""},
		{"variadic", `{"sep": "+", "parts": ["a", "b"]}`, `"a+b"`, "", ""},
		{"variadic", `{"sep": "+"}`, `""`, "", ""},
		{"variadic", `["-", "a", 2]`, "", "parts", "expected a string"},
		{"variadic", `["-", "a", null]`, "", "parts", "null"},
		{"variadic", `{"sep": "+", "parts": "a"}`, "", "parts", "expected an array"},
		{"variadic", `[]`, "", "sep", "missing required"},
		// A method without params accepts none.
		{"none", `[]`, `"none"`, "", ""},
		{"none", `{}`, `"none"`, "", ""},
		{"none", `null`, `"none"`, "", ""},
		{"none", `[1]`, "", "params[0]", "unexpected positional"},
		{"none", `{"x": 1}`, "", "x", "unknown param"},
		// Structs inside params are strict too.
		{"nested", `[{"name": "n"}]`, `"n"`, "", ""},
		{"nested", `[{"name": "n", "x": 1}]`, "", "in", "unknown field"},
		{"list", `[[{"name": "n"}, {"name": "m"}]]`, `2`, "", ""},
		{"list", `[[{"name": "n"}, {"nome": "m"}]]`, "", "xs", "unknown field"},
		// An any param decodes as encoding/json would.
		{"any", `[{"k": [1, "s", true]}]`, `"map[string]interface {} map[k:[1 s true]]"`, "", ""},
		{"any", `[1.5]`, `"float64 1.5"`, "", ""},
		{"anyfield", `[{"v": 1.5}]`, `"float64 1.5"`, "", ""},
		{"ints", `[[1, 2]]`, `2`, "", ""},
		{"embedded", `[1, 2]`, `12`, "", ""},
		{"embedded", `{"x": 1, "y": 2}`, `12`, "", ""},
		{"embeddedtagged", `[{"x": 1}, 2]`, `12`, "", ""},
		{"embeddedtagged", `{"base": {"x": 1}, "y": 2}`, `12`, "", ""},
		{"embeddedtagged", `{"x": 1, "y": 2}`, "", "x", "unknown param"},
		{"embeddedhidden", `[2]`, `2`, "", ""},
		{"embeddedhidden", `{"x": 1, "y": 2}`, "", "x", "unknown param"},
		{"ints", `[[1, "2"]]`, "", "xs", "expected an integer"},
		{"ints", `[3]`, "", "xs", "expected an array"},
		{"variadic", `{"sep": "+", "parts": ["a", 2]}`, "", "parts", "expected a string"},
	}
	s := newBindServer(t)
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.params, func(t *testing.T) {
			r := call(context.Background(), t, s, tt.method, tt.params)
			if tt.result != "" {
				wantResult(t, r, tt.result)
				return
			}
			wantError(t, r, rpc.CodeInvalidParams, `"param":"`+tt.param+`"`, tt.problem)
			if r.Error.Message != "Invalid params" {
				t.Errorf("message %q, want Invalid params", r.Error.Message)
			}
			if strings.Contains(string(r.Error.Data), "rpc_test") || strings.Contains(string(r.Error.Data), "structParams") {
				t.Errorf("error data %s names a Go type", r.Error.Data)
			}
		})
	}
}

func TestBindingLenient(t *testing.T) {
	tests := []struct {
		method, params string
		result         string // "" when an error is expected
		param          string
	}{
		{"struct", `{"a": 1, "b": "x", "zzz": 1}`, `"a=1 b=x c=nil d=0 e=false in=nil plain="`, ""},
		{"struct", `[1, "x", null, null, null, null, null, 8, 9]`, `"a=1 b=x c=nil d=0 e=false in=nil plain="`, ""},
		{"struct", `{"a": 1, "b": "x", "in": {"name": "n", "age": 3}}`, `"a=1 b=x c=nil d=0 e=false in=n plain="`, ""},
		{"args", `[1, "x", 2, "y", 5]`, `"a=1 b=x c=2 d=y"`, ""},
		{"args", `{"a": 1, "b": "x", "e": 1}`, `"a=1 b=x c=nil d=nil"`, ""},
		{"none", `[1, 2]`, `"none"`, ""},
		{"none", `{"x": 1}`, `"none"`, ""},
		{"anyfield", `{"p": {"v": 1.5}}`, `"float64 1.5"`, ""},
		// Lenient is not lax about what is there or missing.
		{"struct", `{"a": "1", "b": "x"}`, "", "a"},
		{"struct", `{"a": 1}`, "", "b"},
		{"args", `{"a": 1, "b": 2}`, "", "b"},
	}
	s := newBindServer(t, rpc.WithLenientParams())
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.params, func(t *testing.T) {
			r := call(context.Background(), t, s, tt.method, tt.params)
			if tt.result != "" {
				wantResult(t, r, tt.result)
				return
			}
			wantError(t, r, rpc.CodeInvalidParams, `"param":"`+tt.param+`"`)
		})
	}
}
