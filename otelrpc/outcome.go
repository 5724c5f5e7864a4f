package otelrpc

import (
	"encoding/json"
	"errors"
	"unicode/utf8"

	"github.com/wardenrpc/warden/rpc"
)

// outcome is how a call ended, as far as telemetry tells it.
type outcome struct {
	code    int    // 0 for a result
	message string // the message the caller is sent
	auth    string // warden.auth.result; "" for none
}

// outcomeOf reads err as the engine does (rpc's asCoded and toError):
// an *rpc.Error, an *rpc.AuthError, an rpc.Coder, else -32000.
func outcomeOf(m *rpc.Method, err error) outcome {
	var o outcome
	var reason string
	var e *rpc.Error
	var ae *rpc.AuthError
	var c rpc.Coder
	switch {
	case err == nil:
	case errors.As(err, &e):
		if e == nil { // a nil *Error returned as an error: the engine sends -32603
			o.code, o.message = rpc.CodeInternalError, "Internal error"
			break
		}
		o.code, o.message = e.Code, e.Message
		switch d := e.Data.(type) {
		case rpc.UnauthorizedData:
			reason = d.Reason
		case *rpc.UnauthorizedData:
			if d != nil {
				reason = d.Reason
			}
		}
	case errors.As(err, &ae) && ae != nil:
		o.code, o.message, reason = rpc.CodeUnauthorized, "Unauthorized", ae.Reason
	case errors.As(err, &c):
		o.code, o.message = c.ErrorCode(), c.Error()
	default:
		o.code, o.message = rpc.CodeServerError, "Server error"
	}
	o.auth = authResult(m, o.code, reason)
	return o
}

func authResult(m *rpc.Method, code int, reason string) string {
	switch code {
	case rpc.CodeUnauthorized:
		switch reason {
		case rpc.ReasonMissing, rpc.ReasonExpired, rpc.ReasonRevoked:
			return reason
		}
		return rpc.ReasonInvalid // the engine's reading of an empty or unknown reason
	case rpc.CodeForbidden:
		return "forbidden"
	case rpc.CodeInternalError:
		return ""
	}
	if len(m.Requirement) > 0 {
		return "ok"
	}
	return ""
}

// maxIDLen bounds jsonrpc.request.id: an id is the client's to choose,
// up to the size of a message.
const maxIDLen = 128

// requestID returns the text of a JSON id, and false for none or null.
func requestID(raw []byte) (string, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", false
	}
	s := string(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", false
		}
	}
	if len(s) > maxIDLen {
		n := maxIDLen
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n]
	}
	return s, true
}
