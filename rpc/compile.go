package rpc

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// compiled is what registration made of a method's function, as jrpc2's
// handler.New makes a FuncInfo into a closure: every decision about the
// function's shape (context, params form, variadic, results, injected
// arguments) is taken once, so that a call only runs what was chosen. It
// keeps its own copy of the params, so that nothing done to the public
// [Method] changes how calls are read.
type compiled struct {
	numIn  int  // the function's arguments
	ctxArg bool // argument 0 is the context

	form     paramForm
	params   []slot         // the JSON params, in positional order
	byName   map[string]int // param name to index in params
	variadic bool           // the last param is variadic
	structT  reflect.Type   // formStruct: the struct type
	structP  bool           // formStruct: the argument is a pointer to it
	structAt int            // formStruct: the argument's index

	check  func(context.Context) *Error       // the security check; nil for a public method
	inject []injection                        // one per provider used, with the arguments it fills
	run    func([]reflect.Value) (any, error) // calls the function, reading its results as its shape says
}

type paramForm uint8

const (
	formNone   paramForm = iota // the method takes no params
	formStruct                  // one struct whose fields are the params
	formArgs                    // several arguments, named at registration
)

// slot is one param as a call fills it.
type slot struct {
	Param
	index  []int         // formStruct: the field's index path
	arg    int           // formArgs: the argument's index
	argT   reflect.Type  // formArgs: the argument's type, a slice for a variadic param
	zero   reflect.Value // formArgs: argT's zero value, for an absent param
	strict bool          // the type holds structs: reject unknown fields inside it
	want   string        // the JSON type expected, for error data
}

// injection is one provider that a method uses, and every argument it
// fills: a type asked for twice is resolved once.
type injection struct {
	p    provider
	args []int
}

var (
	ctxType   = reflect.TypeFor[context.Context]()
	errorType = reflect.TypeFor[error]()
)

// compile does all the reflection a method needs, once.
func (s *Server) compile(name string, fn any, opts []MethodOption) (*Method, error) {
	var mc methodConfig
	for _, o := range opts {
		o(&mc)
	}
	v := reflect.ValueOf(fn)
	if v.Kind() != reflect.Func || v.IsNil() {
		return nil, errors.New("handler is not a function")
	}
	t := v.Type()
	if err := mc.requirement.validate(s.cfg.schemes); err != nil {
		return nil, err
	}
	m := &Method{
		Name:        name,
		Requirement: mc.requirement,
		Summary:     mc.summary,
		Description: mc.description,
		Tags:        mc.tags,
		Deprecated:  mc.deprecated,
		Examples:    mc.examples,
		Errors:      mc.errors,
	}
	c := &m.call
	c.numIn = t.NumIn()

	var err error
	if m.Result, c.run, err = compileResults(v); err != nil {
		return nil, err
	}

	var paramArgs []int
	for i := 0; i < t.NumIn(); i++ {
		in := t.In(i)
		switch {
		case in == ctxType && i == 0:
			c.ctxArg = true
		case in == ctxType:
			return nil, errors.New("context.Context must be the first argument")
		case isSubscriptionArg(in):
			if err := c.subscriptionArgument(mc.sub, in, i); err != nil {
				return nil, err
			}
		default:
			if p, ok := s.cfg.providers[in]; ok && (!t.IsVariadic() || i != t.NumIn()-1) {
				c.addInjection(p, i)
				continue
			}
			paramArgs = append(paramArgs, i)
		}
	}

	switch {
	case mc.namesSet:
		err = c.compileArgs(t, paramArgs, mc.names)
	case len(paramArgs) == 0:
		c.form = formNone
	case len(paramArgs) == 1 && !t.IsVariadic() && isStruct(t.In(paramArgs[0])):
		err = c.compileStruct(t, paramArgs[0])
	default:
		err = fmt.Errorf("missing param names: %d params need rpc.Params(...) unless they are one struct", len(paramArgs))
	}
	if err != nil {
		return nil, err
	}

	c.byName = make(map[string]int, len(c.params))
	for i, p := range c.params {
		if p.Name == "" {
			return nil, fmt.Errorf("param %d has an empty name", i)
		}
		if _, dup := c.byName[p.Name]; dup {
			return nil, fmt.Errorf("duplicate param name %q", p.Name)
		}
		c.byName[p.Name] = i
		m.Params = append(m.Params, p.Param)
	}
	c.variadic = len(c.params) > 0 && c.params[len(c.params)-1].Variadic

	if req := mc.requirement; len(req) > 0 {
		c.check = func(ctx context.Context) *Error { return req.check(ctx, CredentialsFrom(ctx)) }
	}
	if mc.sub != nil {
		if err := s.compileSubscription(m, c, mc.sub); err != nil {
			return nil, err
		}
	}
	m.handler = s.chain(c.execute(s.cfg.lenient))
	return m, nil
}

// compileResults checks the function's results and returns the result
// type (nil for error alone) and the closure that calls the function and
// reads them.
func compileResults(fn reflect.Value) (reflect.Type, func([]reflect.Value) (any, error), error) {
	t := fn.Type()
	call := fn.Call
	if t.IsVariadic() {
		call = fn.CallSlice
	}
	var result reflect.Type
	var run func([]reflect.Value) (any, error)
	switch {
	case t.NumOut() == 1 && t.Out(0) == errorType:
		run = func(args []reflect.Value) (any, error) {
			if e := call(args)[0]; !e.IsNil() {
				return nil, e.Interface().(error)
			}
			return nil, nil
		}
	case t.NumOut() == 1:
		result = t.Out(0)
		run = func(args []reflect.Value) (any, error) {
			return call(args)[0].Interface(), nil
		}
	case t.NumOut() == 2 && t.Out(1) == errorType && t.Out(0) != errorType:
		result = t.Out(0)
		run = func(args []reflect.Value) (any, error) {
			out := call(args)
			if e := out[1]; !e.IsNil() {
				return nil, e.Interface().(error)
			}
			return out[0].Interface(), nil
		}
	default:
		return nil, nil, errors.New("unsupported results: want (R, error), error or R")
	}
	if result != nil && !encodable(result) {
		return nil, nil, fmt.Errorf("result type %s cannot be encoded as JSON", result)
	}
	return result, run, nil
}

// addInjection records that argument arg is filled by p.
func (c *compiled) addInjection(p provider, arg int) {
	for i := range c.inject {
		if c.inject[i].p.typ == p.typ {
			c.inject[i].args = append(c.inject[i].args, arg)
			return
		}
	}
	c.inject = append(c.inject, injection{p: p, args: []int{arg}})
}

// execute returns the innermost handler of the method, the one its
// interceptors wrap: the security check, then params, then injected
// arguments, then the call itself.
func (c *compiled) execute(lenient bool) Handler {
	bind := c.bind
	if c.form == formNone {
		bind = c.bindNone
	}
	return func(ctx context.Context, req *Request) (any, error) {
		if c.check != nil {
			if err := c.check(ctx); err != nil {
				return nil, err
			}
		}
		args := make([]reflect.Value, c.numIn)
		if c.ctxArg {
			args[0] = reflect.ValueOf(ctx)
		}
		if err := bind(req.Params, args, lenient); err != nil {
			return nil, err
		}
		if err := c.resolveInjected(ctx, args); err != nil {
			return nil, err
		}
		return c.run(args)
	}
}

func (c *compiled) compileArgs(t reflect.Type, args []int, names []string) error {
	if len(names) != len(args) {
		return fmt.Errorf("%d params but %d names in rpc.Params", len(args), len(names))
	}
	c.form = formArgs
	variadicArg := -1
	if t.IsVariadic() {
		variadicArg = t.NumIn() - 1
	}
	// Trailing pointer arguments are optional; so is a variadic one.
	optionalFrom := len(args)
	for i := len(args) - 1; i >= 0; i-- {
		if args[i] == variadicArg || t.In(args[i]).Kind() == reflect.Pointer {
			optionalFrom = i
			continue
		}
		break
	}
	for i, a := range args {
		p := slot{Param: Param{Name: names[i], Type: t.In(a), Required: i < optionalFrom}, arg: a, argT: t.In(a)}
		if a == variadicArg {
			p.Variadic, p.Type = true, p.Type.Elem()
		}
		p.zero = reflect.Zero(p.argT)
		if err := p.prepare(); err != nil {
			return err
		}
		c.params = append(c.params, p)
	}
	return nil
}

func (c *compiled) compileStruct(t reflect.Type, arg int) error {
	st := t.In(arg)
	c.form, c.structAt = formStruct, arg
	if st.Kind() == reflect.Pointer {
		c.structP, st = true, st.Elem()
	}
	c.structT = st
	for _, f := range reflect.VisibleFields(st) {
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				return fmt.Errorf("embedded pointer %s in params struct is not supported", ft)
			}
			if ft.Kind() == reflect.Struct {
				continue // its fields are promoted and listed on their own
			}
		}
		if !f.IsExported() || name == "-" && opts == "" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if len(f.Index) > 1 && (throughPointer(st, f.Index) || throughTagged(st, f.Index)) {
			continue
		}
		p := slot{
			Param: Param{
				Name:     name,
				Type:     f.Type,
				Tag:      f.Tag,
				Required: f.Type.Kind() != reflect.Pointer && !tagHas(opts, "omitempty") && !tagHas(opts, "omitzero"),
			},
			index: f.Index,
		}
		if err := p.prepare(); err != nil {
			return err
		}
		c.params = append(c.params, p)
	}
	return nil
}

// prepare checks that the param can travel as JSON and records how to
// decode it.
func (p *slot) prepare() error {
	if !encodable(p.Type) {
		return fmt.Errorf("param %q: type %s cannot be decoded from JSON", p.Name, p.Type)
	}
	p.strict, p.want = holdsStruct(p.Type), jsonKind(p.Type)
	return nil
}

func throughPointer(t reflect.Type, index []int) bool {
	for _, i := range index[:len(index)-1] {
		f := t.Field(i)
		if f.Type.Kind() == reflect.Pointer {
			return true
		}
		t = f.Type
	}
	return false
}

// throughTagged reports whether the field at index is promoted from an
// embedded struct that has a json name or "-": encoding/json treats such a
// struct as one named field (or none), never promoting its fields.
func throughTagged(t reflect.Type, index []int) bool {
	for _, i := range index[:len(index)-1] {
		f := t.Field(i)
		if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name != "" {
			return true
		}
		t = f.Type
		if t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
	}
	return false
}

// tagHas reports whether the options of a json tag include want.
func tagHas(opts, want string) bool {
	for o := range strings.SplitSeq(opts, ",") {
		if o == want {
			return true
		}
	}
	return false
}
