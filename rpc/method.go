package rpc

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
)

// Method is a registered method as the registry describes it: what the
// OpenRPC generator and interceptors read. Its fields are set at
// registration and must not be changed.
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

	fn       reflect.Value
	numIn    int
	hasCtx   bool
	variadic bool
	retErr   bool // the last result is an error
	retVal   bool // the first result is a value
	inject   []injection
	form     paramForm
	structT  reflect.Type // for formStruct: the struct type
	structP  bool         // for formStruct: the argument is a pointer to it
	structAt int          // for formStruct: the argument's index
	byName   map[string]int
	handler  Handler // the interceptor chain around the call, built once
}

// Param describes one JSON param.
type Param struct {
	Name     string
	Type     reflect.Type      // for a variadic param, the type of one element
	Required bool              // it must be present and not null
	Variadic bool              // it takes the remaining positional params
	Tag      reflect.StructTag // the struct field's tag, for params declared as a struct

	index  []int // formStruct: the field's index path
	arg    int   // formArgs: the argument's index
	strict bool  // the type holds structs: reject unknown fields inside it
	want   string
}

type paramForm uint8

const (
	formNone   paramForm = iota // the method takes no params
	formStruct                  // one struct whose fields are the params
	formArgs                    // several arguments, named at registration
)

type injection struct {
	arg int
	p   provider
}

// Example is a documented pairing of params and result, for OpenRPC.
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

// MethodOption configures one method at registration.
type MethodOption func(*methodConfig)

type methodConfig struct {
	names       []string
	namesSet    bool
	requirement Requirement
	summary     string
	description string
	tags        []string
	deprecated  bool
	examples    []Example
	errors      []*Error
}

// Params names a method's JSON params, one name per argument that is
// neither a context nor injected, in order. A method with more than one
// such argument, or one that is not a struct, needs it.
func Params(names ...string) MethodOption {
	return func(c *methodConfig) { c.names, c.namesSet = names, true }
}

// Security sets the method's requirement. See [Requirement].
func Security(r Requirement) MethodOption {
	return func(c *methodConfig) { c.requirement = r }
}

// Summary sets the method's one-line summary.
func Summary(s string) MethodOption { return func(c *methodConfig) { c.summary = s } }

// Description sets the method's longer description.
func Description(s string) MethodOption { return func(c *methodConfig) { c.description = s } }

// Tags sets the method's tags.
func Tags(tags ...string) MethodOption { return func(c *methodConfig) { c.tags = tags } }

// Deprecated marks the method deprecated.
func Deprecated() MethodOption { return func(c *methodConfig) { c.deprecated = true } }

// Examples adds examples of the method's params and result.
func Examples(ex ...Example) MethodOption {
	return func(c *methodConfig) { c.examples = append(c.examples, ex...) }
}

// Errors documents errors the method may return.
func Errors(errs ...*Error) MethodOption {
	return func(c *methodConfig) { c.errors = append(c.errors, errs...) }
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
	m := &Method{
		Name:        name,
		Requirement: mc.requirement,
		Summary:     mc.summary,
		Description: mc.description,
		Tags:        mc.tags,
		Deprecated:  mc.deprecated,
		Examples:    mc.examples,
		Errors:      mc.errors,
		fn:          v,
		numIn:       t.NumIn(),
		variadic:    t.IsVariadic(),
	}
	if err := mc.requirement.validate(s.cfg.schemes); err != nil {
		return nil, err
	}

	switch t.NumOut() {
	case 1:
		if t.Out(0) == errorType {
			m.retErr = true
		} else {
			m.retVal, m.Result = true, t.Out(0)
		}
	case 2:
		if t.Out(1) != errorType || t.Out(0) == errorType {
			return nil, errors.New("unsupported results: want (R, error), error or R")
		}
		m.retVal, m.retErr, m.Result = true, true, t.Out(0)
	default:
		return nil, errors.New("unsupported results: want (R, error), error or R")
	}
	if m.Result != nil && !encodable(m.Result) {
		return nil, fmt.Errorf("result type %s cannot be encoded as JSON", m.Result)
	}

	var paramArgs []int
	for i := 0; i < t.NumIn(); i++ {
		in := t.In(i)
		switch {
		case in == ctxType && i == 0:
			m.hasCtx = true
		case in == ctxType:
			return nil, errors.New("context.Context must be the first argument")
		default:
			if p, ok := s.cfg.providers[in]; ok && !(m.variadic && i == t.NumIn()-1) {
				m.inject = append(m.inject, injection{arg: i, p: p})
				continue
			}
			paramArgs = append(paramArgs, i)
		}
	}

	switch {
	case mc.namesSet:
		if err := m.compileArgs(t, paramArgs, mc.names); err != nil {
			return nil, err
		}
	case len(paramArgs) == 0:
		m.form = formNone
	case len(paramArgs) == 1 && !m.variadic && isStruct(t.In(paramArgs[0])):
		if err := m.compileStruct(t, paramArgs[0]); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("missing param names: %d params need rpc.Params(...) unless they are one struct", len(paramArgs))
	}

	m.byName = make(map[string]int, len(m.Params))
	for i, p := range m.Params {
		if p.Name == "" {
			return nil, fmt.Errorf("param %d has an empty name", i)
		}
		if _, dup := m.byName[p.Name]; dup {
			return nil, fmt.Errorf("duplicate param name %q", p.Name)
		}
		m.byName[p.Name] = i
	}

	m.handler = s.chain(func(ctx context.Context, req *Request) (any, error) {
		return s.execute(ctx, m, req)
	})
	return m, nil
}

func isStruct(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Kind() == reflect.Struct && !t.Implements(unmarshalerType) && !reflect.PointerTo(t).Implements(unmarshalerType)
}

func (m *Method) compileArgs(t reflect.Type, args []int, names []string) error {
	if len(names) != len(args) {
		return fmt.Errorf("%d params but %d names in rpc.Params", len(args), len(names))
	}
	m.form = formArgs
	// Trailing pointer arguments are optional; so is a variadic one.
	optionalFrom := len(args)
	for i := len(args) - 1; i >= 0; i-- {
		in := t.In(args[i])
		if (m.variadic && args[i] == t.NumIn()-1) || in.Kind() == reflect.Pointer {
			optionalFrom = i
			continue
		}
		break
	}
	for i, a := range args {
		p := Param{Name: names[i], Type: t.In(a), arg: a, Required: i < optionalFrom}
		if m.variadic && a == t.NumIn()-1 {
			p.Variadic, p.Type = true, p.Type.Elem()
		}
		if !encodable(p.Type) {
			return fmt.Errorf("param %q: type %s cannot be decoded from JSON", p.Name, p.Type)
		}
		p.strict, p.want = holdsStruct(p.Type), jsonKind(p.Type)
		m.Params = append(m.Params, p)
	}
	return nil
}

func (m *Method) compileStruct(t reflect.Type, arg int) error {
	st := t.In(arg)
	m.form, m.structAt = formStruct, arg
	if st.Kind() == reflect.Pointer {
		m.structP, st = true, st.Elem()
	}
	m.structT = st
	for _, f := range reflect.VisibleFields(st) {
		name, opts := parseTag(f.Tag.Get("json"))
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
		p := Param{
			Name:     name,
			Type:     f.Type,
			Tag:      f.Tag,
			index:    f.Index,
			Required: f.Type.Kind() != reflect.Pointer && !tagHas(opts, "omitempty") && !tagHas(opts, "omitzero"),
		}
		if !encodable(p.Type) {
			return fmt.Errorf("param %q: type %s cannot be decoded from JSON", p.Name, p.Type)
		}
		p.strict, p.want = holdsStruct(p.Type), jsonKind(p.Type)
		m.Params = append(m.Params, p)
	}
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
		if name, _ := parseTag(f.Tag.Get("json")); name != "" {
			return true
		}
		t = f.Type
		if t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
	}
	return false
}

func parseTag(tag string) (name, opts string) {
	for i := 0; i < len(tag); i++ {
		if tag[i] == ',' {
			return tag[:i], tag[i+1:]
		}
	}
	return tag, ""
}

func tagHas(opts, want string) bool {
	for opts != "" {
		var o string
		o, opts, _ = cut(opts, ',')
		if o == want {
			return true
		}
	}
	return false
}

func cut(s string, sep byte) (before, after string, found bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == sep {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// encodable reports whether values of t can travel as JSON.
func encodable(t reflect.Type) bool {
	return encodableSeen(t, map[reflect.Type]bool{})
}

func encodableSeen(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return true
	}
	seen[t] = true
	if t.Implements(marshalerType) || reflect.PointerTo(t).Implements(unmarshalerType) {
		return true
	}
	switch t.Kind() {
	case reflect.Chan, reflect.Func, reflect.Complex64, reflect.Complex128, reflect.UnsafePointer:
		return false
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return encodableSeen(t.Elem(), seen)
	case reflect.Map:
		k := t.Key().Kind()
		if k != reflect.String && !(k >= reflect.Int && k <= reflect.Uint64) && !t.Key().Implements(textMarshalerType) {
			return false
		}
		return encodableSeen(t.Elem(), seen)
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() && !f.Anonymous || f.Tag.Get("json") == "-" {
				continue
			}
			if !encodableSeen(f.Type, seen) {
				return false
			}
		}
	}
	return true
}

// holdsStruct reports whether decoding t can meet an object with fields,
// where strict checking must reject unknown ones.
func holdsStruct(t reflect.Type) bool {
	return holdsStructSeen(t, map[reflect.Type]bool{})
}

func holdsStructSeen(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return false
	}
	seen[t] = true
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		return false
	}
	switch t.Kind() {
	case reflect.Struct:
		return true
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		return holdsStructSeen(t.Elem(), seen)
	}
	return false
}

// jsonKind names the JSON type that t decodes from, for error data. It never
// names a Go type.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) || reflect.PointerTo(t).Implements(textUnmarshalerType) {
		return "a valid value"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return "a base64 string"
		}
		return "an array"
	case reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "a valid value"
}

// ParamStructure reports how the method accepts params, in OpenRPC's
// words. Every Warden method accepts both, so it is "either".
func (m *Method) ParamStructure() string { return "either" }

// String returns the method's name.
func (m *Method) String() string { return m.Name }

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
