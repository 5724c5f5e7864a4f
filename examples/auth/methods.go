package main

import (
	"context"
	"crypto/rand"
	"errors"
	"time"

	"github.com/wardenrpc/warden/rpc"
	"github.com/wardenrpc/warden/security"
	"github.com/wardenrpc/warden/transport"
)

// CodeSignUpFailed is sign_up's error for a username that cannot be used.
// It says no more, so that sign_up tells no one which names exist by its
// message.
const CodeSignUpFailed = 1001

func errSignUp() *rpc.Error {
	return rpc.NewError(CodeSignUpFailed, "Sign-up failed", nil)
}

// errSignIn is sign_in's one error for an unknown user and a wrong
// password alike: the same bytes, after the same work.
func errSignIn() *rpc.Error {
	return rpc.NewError(rpc.CodeUnauthorized, "Invalid username or password", rpc.UnauthorizedData{Reason: rpc.ReasonInvalid})
}

// RefreshParams are the params of refresh.
type RefreshParams struct {
	RefreshToken string `json:"refresh_token" jsonschema:"description=The refresh_token of the latest pair."`
}

// signUp creates a user. The password is hashed before the name is looked
// at, so a taken name costs what a free one does.
func (a *app) signUp(ctx context.Context, c Credentials) (User, error) {
	name, err := normalizeUsername(string(c.Username))
	if err != nil {
		return User{}, err
	}
	if err := checkPassword(string(c.Password)); err != nil {
		return User{}, err
	}
	// Every sign-up costs a password hash: the address pays for it first.
	addr := "sign_up/addr/" + clientAddr(ctx)
	if err := a.charge(ctx, addr, signUpAddrLimit); err != nil {
		a.logger.Warn("sign-up throttled", "client", clientAddr(ctx))
		return User{}, err
	}
	hash, err := a.hasher.Hash(ctx, string(c.Password))
	if err != nil {
		a.refundIfNoSlot(ctx, err, addr, signUpAddrLimit)
		return User{}, err
	}
	u := User{ID: rand.Text(), Username: name, CreatedAt: time.Now().UTC().Truncate(time.Millisecond)}
	switch err := a.store.CreateUser(ctx, u, hash); {
	case errors.Is(err, ErrUsernameTaken):
		a.logger.Info("sign-up refused: username taken", "username", name)
		return User{}, errSignUp()
	case err != nil:
		return User{}, err
	}
	a.logger.Info("signed up", "username", name)
	return u, nil
}

// signIn checks a username and password and issues a pair. Over a
// WebSocket (sess is not nil) it also binds the access token to the
// connection, as python-openrpc's tutorial leaves for the reader to do.
func (a *app) signIn(ctx context.Context, sess *transport.Session, c Credentials) (*security.Pair, error) {
	name, err := normalizeUsername(string(c.Username))
	if err != nil {
		return nil, err
	}
	password := string(c.Password)
	if len(password) > MaxPasswordBytes {
		return nil, security.ErrPasswordTooLong
	}
	key, addr := usernameKey(name), clientAddr(ctx)
	// Charged before any hashing, to the account and to the address; a
	// success refunds them.
	account, from := "sign_in/account/"+key, "sign_in/addr/"+addr
	if err := a.charge(ctx, account, signInAccountLimit); err != nil {
		a.logger.Warn("sign-in throttled", "username", name, "client", addr)
		return nil, err
	}
	if err := a.charge(ctx, from, signInAddrLimit); err != nil {
		a.refund(ctx, account, signInAccountLimit)
		a.logger.Warn("sign-in throttled", "username", name, "client", addr)
		return nil, err
	}
	u, hash, err := a.store.UserByKey(ctx, key)
	var ok bool
	switch {
	case errors.Is(err, ErrNoUser):
		ok, err = a.hasher.VerifyDummy(ctx, password)
	case err == nil:
		ok, err = a.hasher.Verify(ctx, password, hash)
	}
	if err != nil {
		// A hashing slot refused is the server's load, not a guess.
		a.refundIfNoSlot(ctx, err, account, signInAccountLimit)
		a.refundIfNoSlot(ctx, err, from, signInAddrLimit)
		return nil, err
	}
	if !ok {
		a.logger.Info("sign-in failed", "username", name, "client", addr)
		return nil, errSignIn()
	}
	if err := a.throttle.Reset(ctx, account); err != nil {
		a.logger.Warn("throttle reset failed", "error", err)
	}
	a.refund(ctx, from, signInAddrLimit)
	if a.hasher.NeedsRehash(hash) {
		a.rehash(ctx, u, hash, password)
	}
	pair, err := a.issuer.Issue(ctx, security.Grant{Subject: u.ID})
	if err != nil {
		return nil, err
	}
	if sess != nil {
		if err := sess.Authenticate(ctx, "bearer", pair.AccessToken); err != nil {
			return nil, err
		}
	}
	a.logger.Info("signed in", "username", u.Username, "client", addr, "websocket", sess != nil)
	return pair, nil
}

// charge charges one attempt to key, or returns -32005 with how long to
// wait when key is locked.
func (a *app) charge(ctx context.Context, key string, limit security.ThrottleLimit) error {
	wait, err := a.throttle.Charge(ctx, key, limit)
	if err != nil {
		return err
	}
	if wait > 0 {
		return rpc.LimitExceeded((wait + time.Millisecond - 1).Milliseconds())
	}
	return nil
}

// refund gives back an attempt charged to key.
func (a *app) refund(ctx context.Context, key string, limit security.ThrottleLimit) {
	if err := a.throttle.Refund(ctx, key, limit); err != nil {
		a.logger.Warn("throttle refund failed", "error", err)
	}
}

// refundIfNoSlot refunds an attempt that the hasher refused for lack of a
// slot (-32005): the server was busy; the attempt proved nothing.
func (a *app) refundIfNoSlot(ctx context.Context, err error, key string, limit security.ThrottleLimit) {
	var re *rpc.Error
	if errors.As(err, &re) && re.Code == rpc.CodeLimitExceeded {
		a.refund(ctx, key, limit)
	}
}

// rehash stores a new hash of a correct password whose stored hash has
// another cost, so that raising the cost upgrades users as they sign in.
func (a *app) rehash(ctx context.Context, u User, old, password string) {
	hash, err := a.hasher.Hash(ctx, password)
	if err == nil {
		err = a.store.UpdateHash(ctx, u.ID, old, hash)
	}
	if err != nil {
		a.logger.Warn("rehash failed", "username", u.Username, "error", err)
	}
}

// currentUser provides the *User of the bearer token's subject, loaded
// from the store. A token whose user was deleted is refused with -32001.
func (a *app) currentUser(ctx context.Context) (*User, error) {
	p := security.PrincipalFrom(ctx, "bearer")
	if p == nil {
		return nil, rpc.Unauthorized(rpc.ReasonMissing)
	}
	u, err := a.users.byID(ctx, p.Subject)
	if errors.Is(err, ErrNoUser) {
		return nil, rpc.Unauthorized(rpc.ReasonRevoked)
	}
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// deleteUser deletes the user with id, ends its refresh families, and
// forgets it here at once (other instances within the user cache's ttl).
func (a *app) deleteUser(ctx context.Context, id string) error {
	if err := a.store.DeleteUser(ctx, id); err != nil {
		return err
	}
	a.users.forget(id)
	return nil
}

// requireToken returns the signed-in user: the tutorial's
// require_token(user: User = Depends).
func (a *app) requireToken(u *User) User { return *u }

// refresh spends a refresh token for a new pair. Over a WebSocket the new
// access token is also bound to the connection.
func (a *app) refresh(ctx context.Context, sess *transport.Session, p RefreshParams) (*security.Pair, error) {
	rp, err := a.issuer.Verifier().VerifyRefresh(ctx, p.RefreshToken)
	if err != nil {
		return nil, err
	}
	if _, err := a.store.UserByID(ctx, rp.Subject); errors.Is(err, ErrNoUser) {
		return nil, rpc.Unauthorized(rpc.ReasonRevoked)
	} else if err != nil {
		return nil, err
	}
	pair, err := a.issuer.Refresh(ctx, p.RefreshToken)
	if err != nil {
		return nil, err
	}
	if sess != nil {
		if err := sess.Authenticate(ctx, "bearer", pair.AccessToken); err != nil {
			return nil, err
		}
	}
	return pair, nil
}

// signOut revokes the caller's access token and its refresh family, and
// signs the WebSocket connection out.
func (a *app) signOut(ctx context.Context, p *security.Principal, sess *transport.Session) error {
	if err := a.issuer.Revoke(ctx, p); err != nil {
		return err
	}
	if sess != nil {
		sess.Unbind("bearer")
	}
	a.logger.Info("signed out", "subject", p.Subject)
	return nil
}

// listUsers returns every user. It needs the scope admin.
func (a *app) listUsers(ctx context.Context) ([]User, error) {
	return a.store.ListUsers(ctx)
}
