package openrpc

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/invopop/jsonschema"
	"github.com/wardenrpc/warden/rpc"
)

// schemaRef is the prefix of a reference to a component schema.
const schemaRef = "#/components/schemas/"

// schemas turns Go types into JSON Schemas with invopop/jsonschema and
// gathers every named type under components. One is used per document.
//
// invopop names definitions with a Namer and puts them under "$defs" of
// each reflected root. schemas gives every named type a key that is safe
// in a JSON pointer and unique in the document, moves the definitions to
// the components, rewrites the references, and wraps a "$ref" that has
// sibling keywords in "allOf", because OpenRPC's schemas are draft-07,
// where siblings of "$ref" are ignored.
type schemas struct {
	r          *jsonschema.Reflector
	keys       map[reflect.Type]string
	used       map[string]reflect.Type
	components map[string]*jsonschema.Schema
	pending    map[string]*jsonschema.Schema // named scalars, made by the mapper
}

var (
	jsonMarshalerType = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
	rawMessageType    = reflect.TypeFor[json.RawMessage]()
	jsonNumberType    = reflect.TypeFor[json.Number]()
	timeType          = reflect.TypeFor[time.Time]()
	customSchemaType  = reflect.TypeFor[interface{ JSONSchema() *jsonschema.Schema }]()
	extendSchemaType  = reflect.TypeFor[interface{ JSONSchemaExtend(*jsonschema.Schema) }]()
	aliasSchemaType   = reflect.TypeFor[interface{ JSONSchemaAlias() any }]()
)

func newSchemas(cfg *config, roots []reflect.Type) (*schemas, error) {
	s := &schemas{
		keys:       map[reflect.Type]string{},
		used:       map[string]reflect.Type{},
		components: map[string]*jsonschema.Schema{},
		pending:    map[string]*jsonschema.Schema{},
	}
	comments := map[string]string{}
	for _, src := range cfg.comments {
		var r jsonschema.Reflector
		if err := r.AddGoComments(src.base, src.dir, jsonschema.WithFullComment()); err != nil {
			return nil, fmt.Errorf("openrpc: reading Go comments in %s: %w", src.dir, err)
		}
		for k, v := range r.CommentMap {
			comments[k] = v
		}
	}
	for k, v := range cfg.commentMap {
		comments[k] = v
	}
	s.r = &jsonschema.Reflector{
		Anonymous: true, // no $id: the document is the only base
		Namer:     s.key,
		Mapper:    s.mapType,
		LookupComment: func(t reflect.Type, field string) string {
			if t.Name() == "" {
				return ""
			}
			k := t.PkgPath() + "." + genericBase(t.Name())
			if field != "" {
				k += "." + field
			}
			return comments[k]
		},
	}
	s.assignKeys(roots)
	return s, nil
}

// schemaFor returns the schema of values of t, whose named types refer to
// the components.
func (s *schemas) schemaFor(t reflect.Type) *jsonschema.Schema {
	root := s.r.ReflectFromType(t)
	for k, def := range root.Definitions {
		s.addComponent(k, def)
	}
	for k, def := range s.pending {
		s.addComponent(k, def)
		delete(s.pending, k)
	}
	root.Definitions, root.Version, root.ID = nil, "", ""
	return fixRefs(root)
}

func (s *schemas) addComponent(key string, def *jsonschema.Schema) {
	if _, ok := s.components[key]; ok {
		return
	}
	def = fixRefs(def)
	if def.Title == "" {
		// A boolean or empty schema becomes an object with a title.
		if b, _ := json.Marshal(def); string(b) == "true" {
			def = &jsonschema.Schema{}
		}
		def.Title = key
	}
	s.components[key] = def
}

// mapType gives invopop the schemas it gets wrong or does not put under
// definitions. It returns nil to let invopop reflect t.
func (s *schemas) mapType(t reflect.Type) *jsonschema.Schema {
	if t.Implements(customSchemaType) || t.Implements(aliasSchemaType) {
		return nil // the type says what its schema is
	}
	switch t {
	case timeType:
		return nil // invopop: a date-time string
	case rawMessageType:
		return &jsonschema.Schema{} // any JSON value
	case jsonNumberType:
		return &jsonschema.Schema{Type: "number"}
	}
	var sc *jsonschema.Schema
	switch {
	case t.Implements(jsonMarshalerType) || reflect.PointerTo(t).Implements(jsonMarshalerType):
		sc = &jsonschema.Schema{} // its JSON is its own business
	case t.Implements(textMarshalerType) || reflect.PointerTo(t).Implements(textMarshalerType):
		sc = &jsonschema.Schema{Type: "string"}
	default:
		switch t.Kind() {
		case reflect.Bool:
			sc = &jsonschema.Schema{Type: "boolean"}
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			sc = &jsonschema.Schema{Type: "integer"}
		case reflect.Float32, reflect.Float64:
			sc = &jsonschema.Schema{Type: "number"}
		case reflect.String:
			sc = &jsonschema.Schema{Type: "string"}
		default:
			return nil // structs, slices, maps: invopop defines named ones
		}
		if t.PkgPath() == "" {
			return nil // a predeclared type: inline
		}
	}
	if t.Name() == "" || t.PkgPath() == "" {
		return sc
	}
	// A named type that invopop would inline: define it ourselves.
	if t.Implements(extendSchemaType) {
		reflect.New(t).Interface().(interface{ JSONSchemaExtend(*jsonschema.Schema) }).JSONSchemaExtend(sc)
	}
	key := s.key(t)
	if _, ok := s.components[key]; !ok {
		if sc.Description == "" {
			sc.Description = s.r.LookupComment(t, "")
		}
		s.pending[key] = sc
	}
	// The type lets invopop apply a field's jsonschema tags (enum=1, say)
	// to the reference; fixRefs keeps them beside it and drops the type.
	return &jsonschema.Schema{Ref: "#/$defs/" + key, Type: sc.Type, Extras: map[string]any{scalarMark: true}}
}

// scalarMark marks the reference to a named scalar that mapType returns.
const scalarMark = "x-warden-scalar-ref"

// assignKeys names every named type reachable from roots, so that a name
// shared by types of different packages is qualified for all of them,
// whatever order they are met in.
func (s *schemas) assignKeys(roots []reflect.Type) {
	var named []reflect.Type
	seen := map[reflect.Type]bool{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		if seen[t] {
			return
		}
		seen[t] = true
		if t.Name() != "" && t.PkgPath() != "" {
			named = append(named, t)
		}
		switch t.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
			walk(t.Elem())
		case reflect.Struct:
			for i := 0; i < t.NumField(); i++ {
				if f := t.Field(i); f.IsExported() || f.Anonymous {
					walk(f.Type)
				}
			}
		}
	}
	for _, t := range roots {
		walk(t)
	}
	byBase := map[string][]reflect.Type{}
	for _, t := range named {
		b := safeName(t.Name())
		byBase[b] = append(byBase[b], t)
	}
	for _, t := range named {
		b := safeName(t.Name())
		if len(byBase[b]) == 1 {
			s.claim(t, b)
		}
	}
	for _, t := range named {
		if _, ok := s.keys[t]; !ok {
			s.keys[t] = s.qualified(t)
		}
	}
}

// key is invopop's Namer: the component key of a named type, "" for others.
func (s *schemas) key(t reflect.Type) string {
	if t.Name() == "" || t.PkgPath() == "" {
		return ""
	}
	if k, ok := s.keys[t]; ok {
		return k
	}
	// A type the walk did not see, such as one a JSONSchema method names.
	if b := safeName(t.Name()); s.claim(t, b) {
		return b
	}
	return s.qualified(t)
}

func (s *schemas) claim(t reflect.Type, key string) bool {
	if other, ok := s.used[key]; ok && other != t {
		return false
	}
	s.used[key], s.keys[t] = t, key
	return true
}

// qualified names t by its package, then by its whole import path, then
// by number, until the name is free.
func (s *schemas) qualified(t reflect.Type) string {
	path := t.PkgPath()
	pkg := path[strings.LastIndex(path, "/")+1:]
	base := safeName(t.Name())
	for _, k := range []string{safeName(pkg) + "." + base, safeName(path) + "." + base} {
		if s.claim(t, k) {
			return k
		}
	}
	for i := 2; ; i++ {
		if k := fmt.Sprintf("%s.%s%d", safeName(pkg), base, i); s.claim(t, k) {
			return k
		}
	}
}

// safeName makes a Go type name fit a component key and a JSON pointer:
// only letters, digits, '_' and '.'. A generic instance's type arguments
// lose their import paths and join with '_': Page[example.com/x.Item]
// becomes Page_Item, and Page[[]*x.Item] becomes Page_ListPtrItem.
func safeName(name string) string {
	var b strings.Builder
	word := strings.Builder{}
	flush := func() {
		w := word.String()
		if i := strings.LastIndexByte(w, '.'); i >= 0 {
			w = w[i+1:] // drop the import path of a type argument
		}
		b.WriteString(w)
		word.Reset()
	}
	sep := func() {
		if b.Len() > 0 && !strings.HasSuffix(b.String(), "_") {
			b.WriteByte('_')
		}
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '.', c == '/', c == '-', c == '~', c >= 0x80:
			word.WriteByte(c)
		case c == '[' && i+1 < len(name) && name[i+1] == ']':
			flush()
			b.WriteString("List")
			i++
		case c == '*':
			flush()
			b.WriteString("Ptr")
		default:
			flush()
			sep()
		}
	}
	flush()
	out := strings.Trim(b.String(), "_")
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, out)
}

// genericBase drops a generic instance's type arguments: Page[x.Item] is Page.
func genericBase(name string) string {
	if i := strings.IndexByte(name, '['); i >= 0 {
		return name[:i]
	}
	return name
}

// fixRefs points references at the components and wraps a "$ref" that has
// siblings in "allOf". It changes s in place and returns it, or its
// replacement.
func fixRefs(s *jsonschema.Schema) *jsonschema.Schema {
	if s == nil {
		return nil
	}
	if strings.HasPrefix(s.Ref, "#/$defs/") {
		s.Ref = schemaRef + strings.TrimPrefix(s.Ref, "#/$defs/")
	}
	each := func(list []*jsonschema.Schema) {
		for i := range list {
			list[i] = fixRefs(list[i])
		}
	}
	each(s.AllOf)
	each(s.AnyOf)
	each(s.OneOf)
	each(s.PrefixItems)
	s.Not, s.If, s.Then, s.Else = fixRefs(s.Not), fixRefs(s.If), fixRefs(s.Then), fixRefs(s.Else)
	s.Items, s.Contains = fixRefs(s.Items), fixRefs(s.Contains)
	s.AdditionalProperties, s.PropertyNames, s.ContentSchema = fixRefs(s.AdditionalProperties), fixRefs(s.PropertyNames), fixRefs(s.ContentSchema)
	for k, v := range s.DependentSchemas {
		s.DependentSchemas[k] = fixRefs(v)
	}
	for k, v := range s.PatternProperties {
		s.PatternProperties[k] = fixRefs(v)
	}
	if s.Properties != nil {
		for p := s.Properties.Oldest(); p != nil; p = p.Next() {
			p.Value = fixRefs(p.Value)
		}
	}
	if _, ok := s.Extras[scalarMark]; ok {
		delete(s.Extras, scalarMark)
		if len(s.Extras) == 0 {
			s.Extras = nil
		}
		s.Type = ""
	}
	if s.Ref != "" {
		rest := *s
		rest.Ref = ""
		if !reflect.DeepEqual(rest, jsonschema.Schema{}) {
			rest.AllOf = append([]*jsonschema.Schema{{Ref: s.Ref}}, rest.AllOf...)
			return &rest
		}
	}
	return s
}

// paramSchema is schemaFor a param, with the keywords of its struct
// field's jsonschema tags: invopop reads tags only on fields, so the param
// is reflected as the one field of an unnamed struct.
func (s *schemas) paramSchema(p rpc.Param) *jsonschema.Schema {
	if p.Tag == "" || p.Variadic {
		return s.schemaFor(p.Type)
	}
	st := reflect.StructOf([]reflect.StructField{{Name: "P", Type: p.Type, Tag: p.Tag}})
	root := s.schemaFor(st)
	if root.Properties == nil || root.Properties.Len() != 1 {
		return s.schemaFor(p.Type)
	}
	return root.Properties.Oldest().Value
}
