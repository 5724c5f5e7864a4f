package rpc_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/wardenrpc/warden/rpc"
)

// tokenTable is a scheme over a table of tokens whose Info names no type
// a transport knows: only its own AuthenticateToken can read a token
// presented in-band. It counts revalidations and can revoke.
type tokenTable struct {
	mu          sync.Mutex
	subjects    map[string]string // token to subject
	revoked     map[string]bool
	revalidated atomic.Int32
	fault       error // when set, AuthenticateToken cannot decide
}

type tableCred struct{ tok, sub string }

func (tableCred) HasScope(string) bool { return false }

func newTokenTable() *tokenTable {
	return &tokenTable{subjects: map[string]string{"t-alice": "alice", "t-bob": "bob"}, revoked: map[string]bool{}}
}

func (*tokenTable) Authenticate(context.Context, rpc.Metadata) (rpc.Credential, error) {
	return nil, nil // no header carries these tokens
}

func (*tokenTable) Info() rpc.SchemeInfo { return rpc.SchemeInfo{Type: "x-table"} }

func (s *tokenTable) AuthenticateToken(_ context.Context, tok string) (rpc.Credential, error) {
	if s.fault != nil {
		return nil, s.fault
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sub, ok := s.subjects[tok]
	if !ok {
		return nil, &rpc.AuthError{Reason: rpc.ReasonInvalid}
	}
	return tableCred{tok, sub}, nil
}

func (s *tokenTable) Revalidate(_ context.Context, cred rpc.Credential) error {
	s.revalidated.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.revoked[cred.(tableCred).tok] {
		return &rpc.AuthError{Reason: rpc.ReasonRevoked}
	}
	return nil
}

// headerOnly is a scheme that cannot take a token in-band.
type headerOnly struct{}

func (headerOnly) Authenticate(context.Context, rpc.Metadata) (rpc.Credential, error) {
	return nil, nil
}
func (headerOnly) Info() rpc.SchemeInfo {
	return rpc.SchemeInfo{Type: "apiKey", In: "header", Name: "X-Key"}
}

// pipe is a transport of the test's own, neither HTTP nor WebSocket: a
// connection is a session and the messages handed to it.
type pipe struct {
	srv  *rpc.Server
	sess *rpc.Session
	ctx  context.Context

	mu   sync.Mutex
	sent []string // notifications the session sent
}

func newPipe(srv *rpc.Server) *pipe {
	p := &pipe{srv: srv}
	p.sess = rpc.NewSession(srv, func(_ context.Context, msg []byte) error {
		p.mu.Lock()
		p.sent = append(p.sent, string(msg))
		p.mu.Unlock()
		return nil
	})
	p.ctx = rpc.WithSession(context.Background(), p.sess)
	return p
}

// message is what a transport does for each message: the session's
// credentials, re-checked lazily, for this message alone.
func (p *pipe) message() context.Context {
	return rpc.WithCredentials(p.ctx, p.sess.Credentials())
}

func newSessionServer(t *testing.T, opts ...rpc.Option) (*rpc.Server, *tokenTable) {
	t.Helper()
	table := newTokenTable()
	srv := rpc.NewServer(append([]rpc.Option{rpc.WithScheme("table", table), rpc.ProvideSession()}, opts...)...)
	srv.MustRegister("whoami", func(ctx context.Context) string {
		return rpc.CredentialsFrom(ctx).Get(ctx, "table").(tableCred).sub
	}, rpc.Security(rpc.Require("table")))
	srv.MustRegister("public", func() string { return "ok" })
	srv.MustRegister("sign_out", func(sess *rpc.Session) error { sess.Clear(); return nil })
	srv.MustRegister("hello", func(ctx context.Context, sess *rpc.Session, text string) error {
		return sess.Notify(ctx, "hello", []string{text})
	}, rpc.Params("text"))
	if err := rpc.RegisterAuthenticate(srv); err != nil {
		t.Fatal(err)
	}
	return srv, table
}

func TestSessionServesATransportOtherThanWebSocket(t *testing.T) {
	srv, table := newSessionServer(t)
	p := newPipe(srv)
	wantError(t, call(p.message(), t, srv, "whoami", ""), rpc.CodeUnauthorized, `"missing"`)
	wantResult(t, call(p.message(), t, srv, rpc.AuthenticateMethod, `{"token":"t-alice"}`), `{"scheme":"table"}`)
	wantResult(t, call(p.message(), t, srv, "whoami", ""), `"alice"`)
	if c, ok := p.sess.Credential("table").(tableCred); !ok || c.sub != "alice" {
		t.Fatalf("Credential = %v", p.sess.Credential("table"))
	}

	// A bad token changes nothing; a good one replaces the bound one.
	wantError(t, call(p.message(), t, srv, rpc.AuthenticateMethod, `{"token":"forged"}`), rpc.CodeUnauthorized, `"invalid"`)
	wantResult(t, call(p.message(), t, srv, "whoami", ""), `"alice"`)
	wantResult(t, call(p.message(), t, srv, rpc.AuthenticateMethod, `{"token":"t-bob","scheme":"table"}`), `{"scheme":"table"}`)
	wantResult(t, call(p.message(), t, srv, "whoami", ""), `"bob"`)

	table.mu.Lock()
	table.revoked["t-bob"] = true
	table.mu.Unlock()
	wantError(t, call(p.message(), t, srv, "whoami", ""), rpc.CodeUnauthorized, `"revoked"`)

	wantResult(t, call(p.message(), t, srv, rpc.AuthenticateMethod, `{"token":"t-alice"}`), `{"scheme":"table"}`)
	wantResult(t, call(p.message(), t, srv, "sign_out", ""), `null`)
	wantError(t, call(p.message(), t, srv, "whoami", ""), rpc.CodeUnauthorized, `"missing"`)

	wantResult(t, call(p.message(), t, srv, "hello", `["hi"]`), `null`)
	if want := `{"jsonrpc":"2.0","method":"hello","params":["hi"]}`; len(p.sent) != 1 || p.sent[0] != want {
		t.Fatalf("sent %q, want %s", p.sent, want)
	}
}

func TestSessionRechecksOnlyCallsThatNeedIt(t *testing.T) {
	srv, table := newSessionServer(t)
	p := newPipe(srv)
	wantResult(t, call(p.message(), t, srv, rpc.AuthenticateMethod, `{"token":"t-alice"}`), `{"scheme":"table"}`)
	wantResult(t, call(p.message(), t, srv, "public", ""), `"ok"`)
	if n := table.revalidated.Load(); n != 0 {
		t.Fatalf("a public call revalidated %d times", n)
	}
	wantResult(t, call(p.message(), t, srv, "whoami", ""), `"alice"`)
	if n := table.revalidated.Load(); n != 1 {
		t.Fatalf("a protected call revalidated %d times, want 1", n)
	}
	batch := `[{"jsonrpc":"2.0","method":"whoami","id":1},{"jsonrpc":"2.0","method":"whoami","id":2},{"jsonrpc":"2.0","method":"public","id":3}]`
	if resp := srv.Handle(p.message(), []byte(batch)); bytes.Count(resp, []byte(`"alice"`)) != 2 {
		t.Fatalf("batch: %s", resp)
	}
	if n := table.revalidated.Load(); n != 2 {
		t.Fatalf("a batch of two protected calls revalidated %d times in all, want once more", n-1)
	}
}

func TestSessionAuthenticateNeedsATokenScheme(t *testing.T) {
	srv, _ := newSessionServer(t, rpc.WithScheme("key", headerOnly{}))
	p := newPipe(srv)
	wantError(t, call(p.message(), t, srv, rpc.AuthenticateMethod, `{"token":"t-alice","scheme":"key"}`),
		rpc.CodeInvalidParams, `"scheme"`, "in-band")
	wantError(t, call(p.message(), t, srv, rpc.AuthenticateMethod, `{"token":"t-alice","scheme":"nope"}`),
		rpc.CodeInvalidParams, `"scheme"`)
	wantError(t, call(p.message(), t, srv, rpc.AuthenticateMethod, `{"token":""}`),
		rpc.CodeUnauthorized, `"missing"`)
	// The one scheme that takes tokens is the default, whatever else is declared.
	wantResult(t, call(p.message(), t, srv, rpc.AuthenticateMethod, `{"token":"t-alice"}`), `{"scheme":"table"}`)
	if err := p.sess.Authenticate(context.Background(), "key", "k"); err == nil {
		t.Fatal("Session.Authenticate with a scheme that takes no tokens succeeded")
	}
}

func TestAuthenticateNamesTheSchemesToChooseFrom(t *testing.T) {
	srv, _ := newSessionServer(t, rpc.WithScheme("other", newTokenTable()))
	p := newPipe(srv)
	wantError(t, call(p.message(), t, srv, rpc.AuthenticateMethod, `{"token":"t-alice"}`),
		rpc.CodeInvalidParams, `"scheme"`, "table, other")
	wantResult(t, call(p.message(), t, srv, rpc.AuthenticateMethod, `{"token":"t-alice","scheme":"other"}`), `{"scheme":"other"}`)
}

func TestAuthenticateWithoutSessionIsInvalidRequest(t *testing.T) {
	srv, _ := newSessionServer(t)
	wantError(t, call(context.Background(), t, srv, rpc.AuthenticateMethod, `{"token":"t-alice"}`), rpc.CodeInvalidRequest)
}

func TestSessionSchemeFaultFailsClosed(t *testing.T) {
	var logs bytes.Buffer
	srv, table := newSessionServer(t, rpc.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	table.fault = errors.New("database down")
	p := newPipe(srv)
	r := call(p.message(), t, srv, rpc.AuthenticateMethod, `{"token":"t-alice"}`)
	wantError(t, r, rpc.CodeInternalError)
	if strings.Contains(string(r.Error.Data), "database") {
		t.Fatalf("fault text sent: %s", r.Error.Data)
	}
	if !strings.Contains(logs.String(), "database down") {
		t.Fatalf("fault not logged: %q", logs.String())
	}
	wantError(t, call(p.message(), t, srv, "whoami", ""), rpc.CodeUnauthorized, `"missing"`)
}

func TestSessionNotifyWithoutSender(t *testing.T) {
	srv, _ := newSessionServer(t)
	sess := rpc.NewSession(srv, nil)
	if err := sess.Notify(context.Background(), "x", nil); !errors.Is(err, rpc.ErrNoNotifications) {
		t.Fatalf("Notify = %v", err)
	}
}

func TestRegisterAuthenticateIsChecked(t *testing.T) {
	if err := rpc.RegisterAuthenticate(rpc.NewServer()); err == nil {
		t.Error("registered on a server without schemes")
	}
	if err := rpc.RegisterAuthenticate(rpc.NewServer(rpc.WithScheme("key", headerOnly{}))); err == nil {
		t.Error("registered on a server whose schemes take no tokens in-band")
	}
	srv, _ := newSessionServer(t) // registers it once
	if _, ok := srv.Method(rpc.AuthenticateMethod); !ok {
		t.Fatal("rpc.authenticate is not listed")
	}
	if err := rpc.RegisterAuthenticate(srv); err == nil {
		t.Error("registered twice")
	}
}

// Binding replaces the bound set: calls keep the set they started with
// while others sign in and out.
func TestSessionBindRacesWithCalls(t *testing.T) {
	srv, _ := newSessionServer(t)
	p := newPipe(srv)
	p.sess.Bind("table", tableCred{"t-alice", "alice"}) // before any reader looks
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for range 50 {
				p.sess.Bind("table", tableCred{"t-alice", "alice"})
				p.sess.Unbind("other")
			}
		}()
		go func() {
			defer wg.Done()
			for range 50 {
				ctx := p.message()
				if c, ok := rpc.CredentialsFrom(ctx).Get(ctx, "table").(tableCred); !ok || c.sub != "alice" {
					t.Errorf("credential = %v", c)
					return
				}
			}
		}()
	}
	wg.Wait()
}
