package rpc

import "context"

// Metadata is what a transport knows about a request: its headers. An
// http.Header satisfies it.
type Metadata interface {
	Get(key string) string
}

// Credential is what a [Scheme] established about a caller.
type Credential interface {
	// HasScope reports whether the credential grants scope.
	HasScope(scope string) bool
}

// Scheme authenticates callers from transport metadata. Schemes are
// declared on a server by name with [WithScheme]; methods name them in their
// requirements.
type Scheme interface {
	// Authenticate returns the caller's credential, or (nil, nil) when the
	// metadata carries none for this scheme. A present but unusable
	// credential is an *AuthError saying why.
	Authenticate(ctx context.Context, md Metadata) (Credential, error)
	// Info describes the scheme for documentation.
	Info() SchemeInfo
}

// SchemeInfo describes a scheme as OpenAPI and OpenRPC do.
type SchemeInfo struct {
	Type         string            // "http" or "apiKey"
	Scheme       string            // for Type "http": "bearer"
	BearerFormat string            // for bearer: "JWT"
	In           string            // for Type "apiKey": "header"
	Name         string            // for Type "apiKey": the header's name
	Description  string            //
	Scopes       map[string]string // scope name to description; empty means any well-formed scope
}

// AuthError is a failed authentication. Reason is one of ReasonMissing,
// ReasonInvalid, ReasonExpired or ReasonRevoked. Err, if set, is for logs and
// is never sent.
type AuthError struct {
	Reason string
	Err    error
}

// Error describes the failure for logs, with the underlying error. It is
// never sent to callers, who see only the reason.
func (e *AuthError) Error() string {
	if e.Err != nil {
		return "auth " + e.Reason + ": " + e.Err.Error()
	}
	return "auth " + e.Reason
}

// Unwrap returns the underlying error.
func (e *AuthError) Unwrap() error { return e.Err }

type namedScheme struct {
	name   string
	scheme Scheme
	info   SchemeInfo
}

// Revalidator is implemented by schemes whose credentials can lapse while a
// connection that presented them stays open: tokens expire, and are
// revoked. A long-lived transport calls Revalidate before every call and
// treats an error as it would from Authenticate.
type Revalidator interface {
	Revalidate(ctx context.Context, cred Credential) error
}
