package rpc_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/wardenrpc/warden/rpc"
)

type addArgs struct {
	A int `json:"a"`
	B int `json:"b"`
}

func TestRegisterErrors(t *testing.T) {
	tests := []struct {
		name   string // method name
		fn     any
		opts   []rpc.MethodOption
		reason string // a fragment of the error
	}{
		{"notfunc", 42, nil, "not a function"},
		{"nilfunc", (func() int)(nil), nil, "not a function"},
		{"noresult", func() {}, nil, "unsupported results"},
		{"tworesults", func() (int, int) { return 0, 0 }, nil, "unsupported results"},
		{"errorfirst", func() (error, error) { return nil, nil }, nil, "unsupported results"},
		{"threeresults", func() (int, int, error) { return 0, 0, nil }, nil, "unsupported results"},
		{"chanresult", func() chan int { return nil }, nil, "cannot be encoded"},
		{"funcresult", func() (func(), error) { return nil, nil }, nil, "cannot be encoded"},
		{"chanparam", func(c chan int) error { return nil }, []rpc.MethodOption{rpc.Params("c")}, "cannot be decoded"},
		{"complexfield", func(p struct{ C complex128 }) error { return nil }, nil, "cannot be decoded"},
		{"ctxsecond", func(a int, ctx context.Context) int { return a }, []rpc.MethodOption{rpc.Params("a")}, "context.Context must be the first"},
		{"twoctx", func(ctx, ctx2 context.Context) int { return 0 }, nil, "context.Context must be the first"},
		{"unnamed", func(a, b int) int { return a + b }, nil, "missing param names"},
		{"unnamedone", func(a int) int { return a }, nil, "missing param names"},
		{"unnamedvariadic", func(xs ...int) int { return 0 }, nil, "missing param names"},
		{"toofewnames", func(a, b int) int { return a + b }, []rpc.MethodOption{rpc.Params("a")}, "2 params but 1 names"},
		{"toomanynames", func(a int) int { return a }, []rpc.MethodOption{rpc.Params("a", "b")}, "1 params but 2 names"},
		{"dupparam", func(a, b int) int { return a + b }, []rpc.MethodOption{rpc.Params("a", "a")}, `duplicate param name "a"`},
		{"emptyparam", func(a int) int { return a }, []rpc.MethodOption{rpc.Params("")}, "empty name"},
		{"dupfield", func(p struct {
			A int `json:"B"`
			B int
		}) int {
			return 0
		}, nil, `duplicate param name "B"`},
		{"rpc.discover", func() int { return 0 }, nil, "reserved"},
		{"undeclared", func() int { return 0 }, []rpc.MethodOption{rpc.Security(rpc.Require("nope"))}, `undeclared scheme "nope"`},
		{"spacescope", func() int { return 0 }, []rpc.MethodOption{rpc.Security(rpc.Require("fake", "read write"))}, "malformed scope"},
		{"emptyscope", func() int { return 0 }, []rpc.MethodOption{rpc.Security(rpc.Require("fake", ""))}, "malformed scope"},
		{"quotescope", func() int { return 0 }, []rpc.MethodOption{rpc.Security(rpc.Require("fake", `a"b`))}, "malformed scope"},
		{"emptyalt", func() int { return 0 }, []rpc.MethodOption{rpc.Security(rpc.Requirement{{}})}, "names no scheme"},
		{"undeclaredscope", func() int { return 0 }, []rpc.MethodOption{rpc.Security(rpc.Require("scoped", "delete"))}, `undeclared scope "delete"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := rpc.NewServer(
				rpc.WithScheme("fake", fakeScheme{header: "X-Fake"}),
				rpc.WithScheme("scoped", fakeScheme{header: "X-Scoped", scopes: map[string]string{"read": "", "write": ""}}),
			)
			err := s.Register(tt.name, tt.fn, tt.opts...)
			if err == nil {
				t.Fatalf("Register succeeded, want an error about %q", tt.reason)
			}
			msg := err.Error()
			if !strings.Contains(msg, `"`+tt.name+`"`) {
				t.Errorf("error %q does not name the method %q", msg, tt.name)
			}
			if !strings.Contains(msg, tt.reason) {
				t.Errorf("error %q does not say %q", msg, tt.reason)
			}
			if _, ok := s.Method(tt.name); ok {
				t.Error("the method was registered anyway")
			}
			if len(s.Methods()) != 0 || s.Generation() != 0 {
				t.Error("a failed registration changed the registry")
			}
		})
	}
}

func TestRegisterDuplicate(t *testing.T) {
	s := rpc.NewServer()
	if err := s.Register("add", func(a addArgs) int { return a.A + a.B }); err != nil {
		t.Fatal(err)
	}
	err := s.Register("add", func() int { return 0 })
	if err == nil || !strings.Contains(err.Error(), `"add"`) || !strings.Contains(err.Error(), "already registered") {
		t.Fatalf("second Register: %v, want an error naming add as already registered", err)
	}
	// The first registration still answers.
	wantResult(t, call(context.Background(), t, s, "add", `[1,2]`), `3`)
}

func TestRegisterEmptyName(t *testing.T) {
	if err := rpc.NewServer().Register("", func() int { return 0 }); err == nil {
		t.Fatal("Register with an empty name succeeded")
	}
}

func TestRegisterReserved(t *testing.T) {
	s := rpc.NewServer()
	if err := s.RegisterReserved("discover", func() int { return 0 }); err == nil || !strings.Contains(err.Error(), `"discover"`) {
		t.Fatalf("RegisterReserved(discover) = %v, want an error naming it", err)
	}
	if err := s.RegisterReserved("rpc.discover", func() string { return "doc" }); err != nil {
		t.Fatal(err)
	}
	wantResult(t, call(context.Background(), t, s, "rpc.discover", ""), `"doc"`)
}

func TestMustRegisterPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("MustRegister of a bad method did not panic")
		}
	}()
	rpc.NewServer().MustRegister("bad", 42)
}

// The registry describes each method for the OpenRPC generator.
func TestRegistryDescribesMethods(t *testing.T) {
	type user struct{ Name string }
	s := rpc.NewServer(
		rpc.WithScheme("fake", fakeScheme{header: "X-Fake"}),
		rpc.Provide(func(context.Context) (user, error) { return user{}, nil }),
	)
	req := rpc.Require("fake", "write")
	ex := rpc.Example{Name: "one", Params: []rpc.ExampleParam{{Name: "a", Value: 1}}, Result: 1}
	notFound := rpc.NewError(-32010, "no such thing", nil)
	s.MustRegister("store", func(ctx context.Context, u user, key string, val *int, more ...bool) (map[string]int, error) {
		return nil, nil
	}, rpc.Params("key", "val", "more"), rpc.Security(req), rpc.Summary("Stores."), rpc.Description("Stores a value."),
		rpc.Tags("kv", "write"), rpc.Deprecated(), rpc.Examples(ex), rpc.Errors(notFound))
	s.MustRegister("add", func(a addArgs) (int, error) { return a.A + a.B, nil })
	s.MustRegister("ping", func() error { return nil })

	if g := s.Generation(); g != 3 {
		t.Errorf("Generation = %d, want 3", g)
	}
	var names []string
	for _, m := range s.Methods() {
		names = append(names, m.Name)
	}
	if !reflect.DeepEqual(names, []string{"store", "add", "ping"}) {
		t.Errorf("Methods in order %v, want registration order", names)
	}

	m, ok := s.Method("store")
	if !ok {
		t.Fatal("store is not registered")
	}
	if got := m.ParamNames(); !reflect.DeepEqual(got, []string{"key", "val", "more"}) {
		t.Errorf("ParamNames = %v; the injected user and the context must not be params", got)
	}
	wantParams := []struct {
		typ                reflect.Type
		required, variadic bool
	}{
		{reflect.TypeFor[string](), true, false},
		{reflect.TypeFor[*int](), false, false},
		{reflect.TypeFor[bool](), false, true},
	}
	for i, w := range wantParams {
		p := m.Params[i]
		if p.Type != w.typ || p.Required != w.required || p.Variadic != w.variadic {
			t.Errorf("param %s: type %v required %v variadic %v, want %v %v %v", p.Name, p.Type, p.Required, p.Variadic, w.typ, w.required, w.variadic)
		}
	}
	if m.Result != reflect.TypeFor[map[string]int]() {
		t.Errorf("Result = %v", m.Result)
	}
	if !reflect.DeepEqual(m.Requirement, req) || m.Public() {
		t.Errorf("Requirement = %v, Public %v", m.Requirement, m.Public())
	}
	if m.Summary != "Stores." || m.Description != "Stores a value." || !reflect.DeepEqual(m.Tags, []string{"kv", "write"}) ||
		!m.Deprecated || !reflect.DeepEqual(m.Examples, []rpc.Example{ex}) || len(m.Errors) != 1 || m.Errors[0] != notFound {
		t.Errorf("metadata not kept: %+v", m)
	}

	add, _ := s.Method("add")
	if got := add.ParamNames(); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("struct params: ParamNames = %v, want [a b]", got)
	}
	if add.Result != reflect.TypeFor[int]() || !add.Public() {
		t.Errorf("add: Result %v, Public %v", add.Result, add.Public())
	}
	ping, _ := s.Method("ping")
	if ping.Result != nil || len(ping.Params) != 0 {
		t.Errorf("ping: Result %v, Params %v; want none", ping.Result, ping.Params)
	}
}
