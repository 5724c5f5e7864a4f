package main

import (
	"context"
	"crypto/rand"
	"errors"
	"time"

	"github.com/wardenrpc/warden/rpc"
	"github.com/wardenrpc/warden/security"
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
	if err := checkNewPassword("password", string(c.Password)); err != nil {
		return User{}, err
	}
	// Every sign-up costs a password hash: the address pays for it first.
	addr := clientAddr(ctx)
	if err := a.charge(ctx, "sign_up/addr/"+addr, signUpAddrLimit); err != nil {
		a.logger.Info("sign-up throttled", "client", addr)
		return User{}, err
	}
	hash, err := a.hash(ctx, addr, string(c.Password))
	if err != nil {
		if isLimit(err) { // no hashing slot: the attempt cost nothing
			a.refund(ctx, "sign_up/addr/"+addr, signUpAddrLimit)
		}
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
	a.record(ctx, EventSignUp, name)
	return u, nil
}

// signIn checks a username and password and issues a pair. Over a
// WebSocket (sess is not nil) it also binds the access token to the
// connection, as python-openrpc's tutorial leaves for the reader to do.
func (a *app) signIn(ctx context.Context, sess *rpc.Session, c Credentials) (*security.Pair, error) {
	name, err := normalizeUsername(string(c.Username))
	if err != nil {
		return nil, err
	}
	password := string(c.Password)
	if len(password) > MaxPasswordBytes {
		return nil, security.ErrPasswordTooLong
	}
	key, addr := usernameKey(name), clientAddr(ctx)
	u, hash, ok, err := a.guessPassword(ctx, key, addr, password)
	if err != nil {
		return nil, err
	}
	if !ok {
		a.logger.Info("sign-in failed", "username", name, "client", addr)
		// The name as typed, normalized, even when no such user exists:
		// events go to admins only, who can list the users anyway, and
		// attempts on names that do not exist are what they look for.
		a.record(ctx, EventSignInFailed, name)
		return nil, errSignIn()
	}
	if a.hasher.NeedsRehash(hash) {
		a.rehash(ctx, u, hash, password)
	}
	pair, err := a.startSession(ctx, sess, u.ID)
	if err != nil {
		return nil, err
	}
	a.logger.Info("signed in", "username", u.Username, "client", addr, "websocket", sess != nil)
	a.record(ctx, EventSignIn, u.Username)
	return pair, nil
}

// startSession issues a new pair for subject and, over a WebSocket (sess
// is not nil), signs the connection in with its access token, as
// python-openrpc's tutorial leaves for the reader to do.
func (a *app) startSession(ctx context.Context, sess *rpc.Session, subject string) (*security.Pair, error) {
	pair, err := a.issuer.Issue(ctx, security.Grant{Subject: subject})
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

// guessPassword is one password attempt on the account whose username key
// is key, from addr, as sign_in and change_password make it: charged to the
// throttle first (-32005 while locked), checked in a hashing slot of addr's,
// then settled (see guess).
func (a *app) guessPassword(ctx context.Context, key, addr, password string) (u User, hash string, ok bool, err error) {
	g, err := a.beginGuess(ctx, key, addr)
	if err != nil {
		a.logger.Info("password attempt throttled", "username", key, "client", addr)
		return User{}, "", false, err
	}
	u, hash, ok, err = a.checkPassword(ctx, addr, key, password)
	g.settle(ctx, ok, err)
	return u, hash, ok, err
}

// checkPassword looks the account up and checks password against its hash,
// in a hashing slot of addr's. An unknown account costs a hash too, so
// that the answer's timing does not tell which names exist.
func (a *app) checkPassword(ctx context.Context, addr, key, password string) (u User, hash string, ok bool, err error) {
	release, err := a.slots.acquire(addr)
	if err != nil {
		return User{}, "", false, err
	}
	defer release()
	u, hash, err = a.store.UserByKey(ctx, key)
	switch {
	case errors.Is(err, ErrNoUser):
		ok, err = a.hasher.VerifyDummy(ctx, password)
	case err == nil:
		ok, err = a.hasher.Verify(ctx, password, hash)
	}
	return u, hash, ok, err
}

// hash hashes password in a hashing slot of addr's.
func (a *app) hash(ctx context.Context, addr, password string) (string, error) {
	release, err := a.slots.acquire(addr)
	if err != nil {
		return "", err
	}
	defer release()
	return a.hasher.Hash(ctx, password)
}

// isLimit reports whether err is -32005: a limit, not a verdict.
func isLimit(err error) bool {
	var re *rpc.Error
	return errors.As(err, &re) && re.Code == rpc.CodeLimitExceeded
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

// deleteUser deletes the user with id and revokes every token it was
// issued, on every instance; this one forgets it at once.
func (a *app) deleteUser(ctx context.Context, id string) error {
	if err := a.store.DeleteUser(ctx, id); err != nil {
		return err
	}
	a.users.forget(id)
	return a.issuer.RevokeSubject(ctx, id)
}

// UsernameParams are the params of delete_user.
type UsernameParams struct {
	Username StrictString `json:"username" jsonschema:"description=The user's name, compared as at sign-in."`
}

// deleteUserMethod is delete_user: an admin deletes a user, whose tokens
// all stop working, on a bound WebSocket too.
func (a *app) deleteUserMethod(ctx context.Context, admin *security.Principal, p UsernameParams) error {
	name, err := normalizeUsername(string(p.Username))
	if err != nil {
		return err
	}
	u, _, err := a.store.UserByKey(ctx, usernameKey(name))
	if errors.Is(err, ErrNoUser) {
		return rpc.InvalidParams("username", "no such user")
	}
	if err != nil {
		return err
	}
	if err := a.deleteUser(ctx, u.ID); err != nil {
		return err
	}
	a.logger.Info("user deleted", "username", u.Username, "by", admin.Subject)
	return nil
}

// ChangePasswordParams are the params of change_password.
type ChangePasswordParams struct {
	OldPassword StrictString `json:"old_password" jsonschema:"description=The current password."`
	NewPassword StrictString `json:"new_password" jsonschema:"description=8 to 1024 bytes of UTF-8."`
}

// changePassword checks the signed-in user's current password (throttled
// as sign_in is), stores a hash of the new one, and revokes every token
// the user was issued until now, on every instance: other sessions are
// signed out. It returns a new pair for this session, and over a
// WebSocket binds it.
func (a *app) changePassword(ctx context.Context, u *User, sess *rpc.Session, p ChangePasswordParams) (*security.Pair, error) {
	oldPassword, newPassword := string(p.OldPassword), string(p.NewPassword)
	if len(oldPassword) > MaxPasswordBytes {
		return nil, security.ErrPasswordTooLong
	}
	if err := checkNewPassword("new_password", newPassword); err != nil {
		return nil, err
	}
	key, addr := usernameKey(u.Username), clientAddr(ctx)
	_, hash, ok, err := a.guessPassword(ctx, key, addr, oldPassword)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, rpc.InvalidParams("old_password", "does not match")
	}
	newHash, err := a.hash(ctx, addr, newPassword)
	if err != nil {
		return nil, err
	}
	if err := a.store.UpdateHash(ctx, u.ID, hash, newHash); errors.Is(err, ErrHashChanged) {
		return nil, rpc.InvalidParams("old_password", "the password changed meanwhile")
	} else if err != nil {
		return nil, err
	}
	if err := a.issuer.RevokeSubject(ctx, u.ID); err != nil {
		return nil, err
	}
	pair, err := a.startSession(ctx, sess, u.ID)
	if err != nil {
		return nil, err
	}
	a.logger.Info("password changed", "username", u.Username, "client", addr)
	return pair, nil
}

// requireToken returns the signed-in user: the tutorial's
// require_token(user: User = Depends).
func (a *app) requireToken(u *User) User { return *u }

// refresh spends a refresh token for a new pair. Over a WebSocket the new
// access token is also bound to the connection.
func (a *app) refresh(ctx context.Context, sess *rpc.Session, p RefreshParams) (*security.Pair, error) {
	rp, err := a.issuer.Verifier().VerifyRefresh(ctx, p.RefreshToken)
	if err != nil {
		return nil, err
	}
	u, err := a.store.UserByID(ctx, rp.Subject)
	if errors.Is(err, ErrNoUser) {
		return nil, rpc.Unauthorized(rpc.ReasonRevoked)
	} else if err != nil {
		return nil, err
	}
	pair, err := a.issuer.Refresh(ctx, p.RefreshToken)
	if errors.Is(err, security.ErrRefreshReused) {
		// The issuer has revoked the family (and logged it); the second
		// presenter of a spent token gets a plain -32001 revoked.
		a.record(ctx, EventRefreshReused, u.Username)
	}
	if err != nil {
		return nil, err
	}
	if sess != nil {
		if err := sess.Authenticate(ctx, "bearer", pair.AccessToken); err != nil {
			return nil, err
		}
	}
	a.record(ctx, EventRefresh, u.Username)
	return pair, nil
}

// signOut revokes the caller's access token and its refresh family, and
// signs the WebSocket connection out.
func (a *app) signOut(ctx context.Context, p *security.Principal, sess *rpc.Session) error {
	if err := a.issuer.Revoke(ctx, p); err != nil {
		return err
	}
	if sess != nil {
		sess.Unbind("bearer")
	}
	a.logger.Info("signed out", "subject", p.Subject)
	name := "" // a user deleted meanwhile has no name left
	if u, err := a.users.byID(ctx, p.Subject); err == nil {
		name = u.Username
	}
	a.record(ctx, EventSignOut, name)
	return nil
}

// listUsers returns every user. It needs the scope admin.
func (a *app) listUsers(ctx context.Context) ([]User, error) {
	return a.store.ListUsers(ctx)
}
