package rpc

import (
	"errors"
	"fmt"
)

// Error codes that Warden sends. The first five are defined by the JSON-RPC
// 2.0 specification; the rest are Warden's, in the range the specification
// leaves to servers. They are the same on every transport.
const (
	CodeParseError     = -32700 // the message is not JSON
	CodeInvalidRequest = -32600 // not a request object, an empty or oversized batch, text that is not valid Unicode
	CodeMethodNotFound = -32601 // no such method
	CodeInvalidParams  = -32602 // wrong shape or type, missing or unknown param
	CodeInternalError  = -32603 // a panic or framework fault
	CodeServerError    = -32000 // a handler returned a plain Go error
	CodeUnauthorized   = -32001 // credentials missing, malformed, expired or revoked
	CodeForbidden      = -32003 // valid credentials without the required scopes
	CodeLimitExceeded  = -32005 // a rate, concurrency or size cap was hit
)

// Reasons carried in data.reason of a CodeUnauthorized error.
const (
	ReasonMissing = "missing"
	ReasonInvalid = "invalid"
	ReasonExpired = "expired"
	ReasonRevoked = "revoked"
)

// Error is a JSON-RPC error object. A handler returns an *Error (or any error
// that wraps one, or that implements [Coder]) to choose the code, message and
// data that the caller sees. [Errors] documents those a method may return;
// the openrpc package lists them in its document as openrpc.Error values.
type Error struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    any    `json:"data,omitempty"`
}

// Error returns the message with its code, for logs.
func (e *Error) Error() string {
	return fmt.Sprintf("jsonrpc error %d: %s", e.Code, e.Message)
}

// ErrorCode returns e.Code; it makes *Error a [Coder].
func (e *Error) ErrorCode() int { return e.Code }

// Coder is implemented by errors that carry their own JSON-RPC code. The
// error's Error() text becomes the message. If the error also has a method
// ErrorData() any, its result becomes the data member.
type Coder interface {
	error
	ErrorCode() int
}

// NewError returns an *Error with the given code, message and data.
func NewError(code int, message string, data any) *Error {
	return &Error{Code: code, Message: message, Data: data}
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code int, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// InvalidParams returns a CodeInvalidParams error whose data names the
// parameter at fault.
func InvalidParams(param, problem string) *Error {
	return &Error{
		Code:    CodeInvalidParams,
		Message: "Invalid params",
		Data:    ParamError{Param: param, Problem: problem},
	}
}

// ParamError is the data of a CodeInvalidParams error.
type ParamError struct {
	Param   string `json:"param"`
	Problem string `json:"problem"`
}

// Unauthorized returns a CodeUnauthorized error with the given reason, one
// of ReasonMissing, ReasonInvalid, ReasonExpired or ReasonRevoked.
func Unauthorized(reason string) *Error {
	return &Error{Code: CodeUnauthorized, Message: "Unauthorized", Data: UnauthorizedData{Reason: reason}}
}

// UnauthorizedData is the data of a CodeUnauthorized error.
type UnauthorizedData struct {
	Reason string `json:"reason"`
}

// Forbidden returns a CodeForbidden error listing the scopes that were
// required.
func Forbidden(required []string) *Error {
	if required == nil {
		required = []string{}
	}
	return &Error{Code: CodeForbidden, Message: "Forbidden", Data: ForbiddenData{Required: required}}
}

// ForbiddenData is the data of a CodeForbidden error.
type ForbiddenData struct {
	Required []string `json:"required"`
}

// LimitExceeded returns a CodeLimitExceeded error telling the caller how many
// milliseconds to wait before trying again.
func LimitExceeded(retryAfterMillis int64) *Error {
	return &Error{Code: CodeLimitExceeded, Message: "Limit exceeded", Data: LimitData{RetryAfterMillis: retryAfterMillis}}
}

// LimitData is the data of a CodeLimitExceeded error.
type LimitData struct {
	RetryAfterMillis int64 `json:"retry_after_ms"`
}

// CapData is the data of a CodeLimitExceeded error for a cap that waiting
// does not lift, such as the size of a batch's response: it names the cap
// and says its size, so that the caller can split its request.
type CapData struct {
	Limit string `json:"limit"`
	Max   int    `json:"max"`
}

// LimitBatchResponseBytes names the cap on a batch's total response size
// (see [WithBatchResponseLimit]) in [CapData].
const LimitBatchResponseBytes = "batch_response_bytes"

// The engine's own errors. Each call returns a new value, so that no
// caller can change what another sees.
func errParse() *Error    { return &Error{Code: CodeParseError, Message: "Parse error"} }
func errNotFound() *Error { return &Error{Code: CodeMethodNotFound, Message: "Method not found"} }
func errInternal() *Error { return &Error{Code: CodeInternalError, Message: "Internal error"} }
func errServer() *Error   { return &Error{Code: CodeServerError, Message: "Server error"} }

func invalidRequest(why string) *Error {
	return &Error{Code: CodeInvalidRequest, Message: "Invalid Request", Data: why}
}

// asCoded reports the JSON-RPC error that err carries, if any.
func asCoded(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		if e == nil {
			// A nil *Error returned as a non-nil error, a common Go
			// slip: there is nothing to send, and no result either.
			return errInternal(), true
		}
		return e, true
	}
	var ae *AuthError
	if errors.As(err, &ae) && ae != nil {
		reason := ae.Reason
		if reason == "" {
			reason = ReasonInvalid
		}
		return Unauthorized(reason), true
	}
	var c Coder
	if errors.As(err, &c) {
		out := &Error{Code: c.ErrorCode(), Message: c.Error()}
		if d, ok := c.(interface{ ErrorData() any }); ok {
			out.Data = d.ErrorData()
		}
		return out, true
	}
	return nil, false
}
