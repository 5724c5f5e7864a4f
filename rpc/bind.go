package rpc

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// bind decodes raw params into args, the method's argument list. raw is
// empty, an array or an object; the wire layer has checked that.
func (c *compiled) bind(raw []byte, args []reflect.Value, lenient bool) *Error {
	var target reflect.Value // formStruct: the struct being filled
	if c.form == formStruct {
		target = reflect.New(c.structT)
		if c.structP {
			args[c.structAt] = target
		} else {
			args[c.structAt] = target.Elem()
		}
		target = target.Elem()
	}
	var buf [8]bool // stays on the stack for the usual few params
	var present []bool
	if len(c.params) <= len(buf) {
		present = buf[:len(c.params)]
	} else {
		present = make([]bool, len(c.params))
	}
	if len(raw) > 0 {
		var err *Error
		if raw[0] == '[' {
			err = c.bindPositional(raw, args, target, present, lenient)
		} else {
			err = c.bindNamed(raw, args, target, present, lenient)
		}
		if err != nil {
			return err
		}
	}
	for i := range c.params {
		p := &c.params[i]
		if present[i] {
			continue
		}
		if p.Required {
			return InvalidParams(p.Name, "missing required param")
		}
		if c.form == formArgs {
			args[p.arg] = p.zero
		}
	}
	return nil
}

func (c *compiled) bindPositional(raw []byte, args []reflect.Value, target reflect.Value, present []bool, lenient bool) *Error {
	var vari reflect.Value // the variadic slice being filled
	last := len(c.params) - 1
	n := 0
	var bad *Error
	eachElement(raw, func(val []byte) bool {
		i := n
		n++
		if i < last || i == last && !c.variadic {
			bad = c.setParam(i, val, args, target, present, lenient)
			return bad == nil
		}
		if !c.variadic {
			if lenient {
				return false
			}
			bad = InvalidParams("params["+strconv.Itoa(i)+"]", "unexpected positional param")
			return false
		}
		p := &c.params[last]
		if isNull(val) {
			bad = InvalidParams(p.Name, "null element")
			return false
		}
		if !vari.IsValid() {
			vari = reflect.MakeSlice(p.argT, 0, 4)
		}
		elem := reflect.New(p.Type)
		if err := decodeInto(val, elem.Interface(), p, !lenient); err != nil {
			bad = err
			return false
		}
		vari = reflect.Append(vari, elem.Elem())
		present[last] = true
		return true
	})
	if bad != nil {
		return bad
	}
	if vari.IsValid() {
		args[c.params[last].arg] = vari
	}
	return nil
}

func (c *compiled) bindNamed(raw []byte, args []reflect.Value, target reflect.Value, present []bool, lenient bool) *Error {
	var bad *Error
	eachMember(raw, func(key, val []byte) bool {
		var i int
		var ok bool
		if bytes.IndexByte(key, '\\') < 0 {
			i, ok = c.byName[string(key[1:len(key)-1])] // no copy of the name
		} else {
			i, ok = c.byName[keyString(key)]
		}
		if !ok {
			if lenient {
				return true
			}
			bad = InvalidParams(keyString(key), "unknown param")
			return false
		}
		if present[i] {
			bad = InvalidParams(keyString(key), "duplicate param")
			return false
		}
		bad = c.setParam(i, val, args, target, present, lenient)
		return bad == nil
	})
	return bad
}

// bindNone checks that a method without params was sent none.
func (c *compiled) bindNone(raw []byte, _ []reflect.Value, lenient bool) *Error {
	if len(raw) == 0 || lenient {
		return nil
	}
	var bad *Error
	if raw[0] == '[' {
		eachElement(raw, func([]byte) bool {
			bad = InvalidParams("params[0]", "unexpected positional param")
			return false
		})
	} else {
		eachMember(raw, func(key, _ []byte) bool {
			bad = InvalidParams(keyString(key), "unknown param")
			return false
		})
	}
	return bad
}

// setParam decodes val as param i and marks it present. A null value leaves
// it absent.
func (c *compiled) setParam(i int, val []byte, args []reflect.Value, target reflect.Value, present []bool, lenient bool) *Error {
	if isNull(val) {
		return nil
	}
	p := &c.params[i]
	if c.form == formStruct {
		f := target.FieldByIndex(p.index)
		if err := decodeInto(val, f.Addr().Interface(), p, !lenient); err != nil {
			return err
		}
	} else {
		ptr := reflect.New(p.argT)
		if err := decodeInto(val, ptr.Interface(), p, !lenient); err != nil {
			return err
		}
		args[p.arg] = ptr.Elem()
	}
	present[i] = true
	return nil
}

// decodeInto decodes one param value. Its error names the param and the
// JSON type expected, never a Go type or the decoder's own text.
func decodeInto(val []byte, ptr any, p *slot, strict bool) *Error {
	if !validText(val) {
		return InvalidParams(p.Name, "invalid UTF-8")
	}
	if fast, err := decodeFast(val, ptr); fast {
		if err != nil {
			return InvalidParams(p.Name, "expected "+p.want)
		}
		return nil
	}
	var err error
	if strict && p.strict {
		dec := json.NewDecoder(bytes.NewReader(val))
		dec.DisallowUnknownFields()
		err = dec.Decode(ptr)
	} else {
		err = json.Unmarshal(val, ptr)
	}
	if err == nil {
		return nil
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return InvalidParams(p.Name+"."+te.Field, "expected "+jsonKind(te.Type))
	}
	if errors.As(err, &te) && te.Type != nil {
		// te.Type is what was being filled: the param itself, or an
		// element of it when the param is an array.
		return InvalidParams(p.Name, "expected "+jsonKind(te.Type))
	}
	if strict && p.strict && isUnknownField(err) {
		return InvalidParams(p.Name, "unknown field in object")
	}
	return InvalidParams(p.Name, "invalid value: expected "+p.want)
}

func isUnknownField(err error) bool {
	return strings.HasPrefix(err.Error(), "json: unknown field")
}

// startsNumber reports whether val can start a JSON number.
func startsNumber(val []byte) bool {
	return len(val) > 0 && (val[0] == '-' || val[0] >= '0' && val[0] <= '9')
}

// decodeFast decodes the commonest scalar kinds without encoding/json. It
// reports false when it does not handle ptr's type.
func decodeFast(val []byte, ptr any) (bool, error) {
	switch p := ptr.(type) {
	case *float64:
		if !startsNumber(val) {
			return true, errWrongType
		}
		f, err := strconv.ParseFloat(string(val), 64)
		*p = f
		return true, err
	case *int:
		if !startsNumber(val) {
			return true, errWrongType
		}
		n, err := strconv.ParseInt(string(val), 10, 0)
		*p = int(n)
		return true, err
	case *int64:
		if !startsNumber(val) {
			return true, errWrongType
		}
		n, err := strconv.ParseInt(string(val), 10, 64)
		*p = n
		return true, err
	case *bool:
		switch string(val) {
		case "true":
			*p = true
		case "false":
			*p = false
		default:
			return true, errWrongType
		}
		return true, nil
	case *string:
		if len(val) < 2 || val[0] != '"' {
			return true, errWrongType
		}
		if bytes.IndexByte(val, '\\') < 0 && isPlainASCII(val[1:len(val)-1]) {
			*p = string(val[1 : len(val)-1])
			return true, nil
		}
		return false, nil
	}
	return false, nil
}

// errWrongType is decodeFast's answer to a value of another JSON type
// than the target's: a string for an int, a number for a bool. Its caller
// sends the param's expected type instead.
var errWrongType = errors.New("wrong JSON type")

func isPlainASCII(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c >= 0x80 {
			return false
		}
	}
	return true
}

// validText reports whether the strings in a JSON value are valid Unicode:
// valid UTF-8 bytes, and no unpaired surrogate among \u escapes.
// encoding/json would quietly turn either into U+FFFD, so a handler could
// never tell that its caller sent something else.
func validText(val []byte) bool {
	if !utf8.Valid(val) {
		return false
	}
	i := bytes.IndexByte(val, '\\')
	if i < 0 {
		return true
	}
	for ; i < len(val)-1; i++ {
		if val[i] != '\\' {
			continue
		}
		if val[i+1] != 'u' {
			i++ // a two-character escape
			continue
		}
		r, ok := hex4(val, i+2)
		if !ok {
			return false
		}
		switch {
		case r >= 0xD800 && r < 0xDC00: // a high surrogate needs a low one next
			if i+12 > len(val) || val[i+6] != '\\' || val[i+7] != 'u' {
				return false
			}
			lo, ok := hex4(val, i+8)
			if !ok || lo < 0xDC00 || lo > 0xDFFF {
				return false
			}
			i += 11
		case r >= 0xDC00 && r <= 0xDFFF:
			return false
		default:
			i += 5
		}
	}
	return true
}

// hex4 reads four hex digits at val[at:].
func hex4(val []byte, at int) (rune, bool) {
	if at+4 > len(val) {
		return 0, false
	}
	var r rune
	for _, c := range val[at : at+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

func isNull(val []byte) bool { return len(val) == 4 && string(val) == "null" }
