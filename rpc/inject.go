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

// resolveInjected fills the injected arguments of one call. Registration
// grouped them by provider, so a type asked for twice is resolved once.
func (c *compiled) resolveInjected(ctx context.Context, args []reflect.Value) error {
	for _, inj := range c.inject {
		v, err := inj.p.resolve(ctx)
		if err != nil {
			return err
		}
		for _, a := range inj.args {
			args[a] = v
		}
	}
	return nil
}
