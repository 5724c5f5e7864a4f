package rpc

import (
	"context"
	"reflect"
)

type provider struct {
	typ     reflect.Type
	resolve func(context.Context) (reflect.Value, error)
}

// Provide declares how to obtain a T for any method that takes one as an
// argument. Such an argument is injected, never read from the params. It is
// resolved once per call, after the security check and after the params
// are decoded. An error from fn becomes the call's error and keeps its code,
// so a provider that returns [Unauthorized] answers -32001.
//
// Providers are options of [NewServer] because registration must know them
// to tell injected arguments from params.
func Provide[T any](fn func(context.Context) (T, error)) Option {
	t := reflect.TypeFor[T]()
	return func(c *config) {
		c.providers[t] = provider{typ: t, resolve: func(ctx context.Context) (reflect.Value, error) {
			v, err := fn(ctx)
			if err != nil {
				return reflect.Value{}, err
			}
			return reflect.ValueOf(&v).Elem(), nil
		}}
	}
}

// resolveInjected fills the injected arguments of one call. A type asked for
// twice is resolved once.
func (m *Method) resolveInjected(ctx context.Context, args []reflect.Value) error {
	for i, inj := range m.inject {
		done := false
		for _, prev := range m.inject[:i] {
			if prev.p.typ == inj.p.typ {
				args[inj.arg], done = args[prev.arg], true
				break
			}
		}
		if done {
			continue
		}
		v, err := inj.p.resolve(ctx)
		if err != nil {
			return err
		}
		args[inj.arg] = v
	}
	return nil
}
