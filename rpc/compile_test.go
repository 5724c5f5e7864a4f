package rpc

import (
	"context"
	"reflect"
	"testing"
)

// What registration compiles, read where no exported API shows it: the
// decisions a call must not take again.
func TestCompileDecidesOnce(t *testing.T) {
	type user struct{ name string }
	s := NewServer(Provide(func(context.Context) (user, error) { return user{"ada"}, nil }))
	s.MustRegister("m", func(ctx context.Context, a user, n int, b user, rest ...string) error { return nil },
		Params("n", "rest"))
	m, _ := s.Method("m")
	c := &m.call

	if !c.ctxArg || c.numIn != 5 || c.form != formArgs {
		t.Errorf("ctxArg %v, numIn %d, form %d; want true, 5, formArgs", c.ctxArg, c.numIn, c.form)
	}
	if len(c.inject) != 1 || !reflect.DeepEqual(c.inject[0].args, []int{1, 3}) {
		t.Errorf("inject = %+v, want one provider filling arguments 1 and 3", c.inject)
	}
	if !c.variadic || c.params[1].argT != reflect.TypeFor[[]string]() || c.params[1].Type != reflect.TypeFor[string]() {
		t.Errorf("variadic param: argT %v, Type %v", c.params[1].argT, c.params[1].Type)
	}
	if !c.params[1].zero.IsValid() || c.params[1].zero.Type() != reflect.TypeFor[[]string]() {
		t.Errorf("variadic param's zero value is %v", c.params[1].zero)
	}
	if c.check != nil {
		t.Error("a public method has a security check")
	}
}
