package rpc

import (
	"encoding"
	"encoding/json"
	"reflect"
)

// Predicates on Go types, asked at registration: can a value of this type
// travel as JSON, and what JSON does it take.

var (
	marshalerType       = reflect.TypeFor[json.Marshaler]()
	unmarshalerType     = reflect.TypeFor[json.Unmarshaler]()
	textMarshalerType   = reflect.TypeFor[encoding.TextMarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// isStruct reports whether t is a struct, or a pointer to one, that
// encoding/json fills field by field: a params struct.
func isStruct(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Kind() == reflect.Struct && !t.Implements(unmarshalerType) && !reflect.PointerTo(t).Implements(unmarshalerType)
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
		if k != reflect.String && (k < reflect.Int || k > reflect.Uint64) && !t.Key().Implements(textMarshalerType) {
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
