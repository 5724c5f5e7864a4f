package rpc

// ErrorOf returns the error object a caller is sent when a method returns
// err, for interceptors that report outcomes: nil for nil; the error's own
// code and message for an [*Error], an [*AuthError] or a [Coder]; and
// CodeServerError, "Server error", for an error that carries no code. It
// does not log, and it does not add what [WithDebug] adds. The value
// returned must not be changed.
func ErrorOf(err error) *Error {
	if err == nil {
		return nil
	}
	if e, ok := asCoded(err); ok {
		return e
	}
	return errServer()
}

// Outcomes of the security check, as [AuthResult] names them. The others
// are the reasons of a CodeUnauthorized error: [ReasonMissing],
// [ReasonInvalid], [ReasonExpired] and [ReasonRevoked].
const (
	AuthOK        = "ok"        // the credentials met the requirement
	AuthForbidden = "forbidden" // valid credentials without the required scopes
	AuthUnknown   = "unknown"   // CodeInternalError: the check may not have decided
)

// AuthResult names what the security check of a call to m came to, read
// from the error the call returned, and from nothing else: it is the best
// reading of the error code, not a record of the check. It returns "" for
// a public method or a method that is not registered; the reason of a
// CodeUnauthorized error; [AuthForbidden] for CodeForbidden; [AuthUnknown]
// for CodeInternalError, which the check sends when it cannot decide and
// the engine sends for a panic; else [AuthOK]. So a handler that returns
// its own CodeUnauthorized, or an interceptor that refuses a call before
// the check with another code, is read as the check would be. It never
// names the caller.
func AuthResult(m *Method, err error) string {
	if m == nil || m.Public() {
		return ""
	}
	e := ErrorOf(err)
	if e == nil {
		return AuthOK
	}
	switch e.Code {
	case CodeUnauthorized:
		switch reason := unauthorizedReason(e); reason {
		case ReasonMissing, ReasonExpired, ReasonRevoked:
			return reason
		}
		return ReasonInvalid // the engine's reading of an empty or unknown reason
	case CodeForbidden:
		return AuthForbidden
	case CodeInternalError:
		return AuthUnknown
	}
	return AuthOK
}

func unauthorizedReason(e *Error) string {
	switch d := e.Data.(type) {
	case UnauthorizedData:
		return d.Reason
	case *UnauthorizedData:
		if d != nil {
			return d.Reason
		}
	}
	return ""
}
