package rpc

import (
	"reflect"
	"slices"
)

// Method is a registered method as the registry describes it: what the
// OpenRPC generator and interceptors read. Its fields are set at
// registration and must not be changed. What a call runs was compiled from
// the function then and is kept apart, so a Method only describes.
//
// It is not openrpc.Method, the method's entry in an OpenRPC document,
// which the openrpc package builds from it.
type Method struct {
	Name        string
	Params      []Param      // the JSON params, in positional order; injected arguments are absent
	Result      reflect.Type // nil when the method returns only an error
	Requirement Requirement  // empty for a public method
	Summary     string
	Description string
	Tags        []string
	Deprecated  bool
	Examples    []Example
	Errors      []*Error // errors the method documents that it may return
	// Subscription is set on the namespace_subscribe method that
	// [Server.RegisterSubscription] made, and nil on every other.
	Subscription *SubscriptionInfo

	call    compiled // what registration made of the function
	handler Handler  // the interceptor chain around the call, built once
}

// Param describes one JSON param.
type Param struct {
	Name     string
	Type     reflect.Type      // for a variadic param, the type of one element
	Required bool              // it must be present and not null
	Variadic bool              // it takes the remaining positional params
	Tag      reflect.StructTag // the struct field's tag, for params declared as a struct
}

// Example is a documented pairing of params and result, given to
// [Examples] at registration. The openrpc package writes it as an
// openrpc.ExamplePairing, whose params are openrpc.Example values.
type Example struct {
	Name        string
	Summary     string
	Description string
	Params      []ExampleParam
	Result      any // the example result's value; nil for a notification
}

// ExampleParam is one named param value of an [Example].
type ExampleParam struct {
	Name  string
	Value any
}

// String returns the method's name.
func (m *Method) String() string { return m.Name }

// Registered reports whether m is a registered method. An interceptor is
// also given calls to methods that are not registered, so that it can
// count and log them; their Method is not registered, has an empty Name
// and no requirement, and the call fails with CodeMethodNotFound. The
// name the caller sent is in [Request.Name]: it is the caller's to choose,
// and a metric labelled with it would grow without bound.
func (m *Method) Registered() bool { return m.Name != "" }

// Public reports whether the method has no requirement.
func (m *Method) Public() bool { return len(m.Requirement) == 0 }

// ParamNames lists the method's param names in positional order.
func (m *Method) ParamNames() []string {
	names := make([]string, len(m.Params))
	for i, p := range m.Params {
		names[i] = p.Name
	}
	return slices.Clip(names)
}
