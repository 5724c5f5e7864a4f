package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"
)

// Subscription defaults. Each can be changed with an [Option].
const (
	// DefaultSubscriptionLimit is the most subscriptions one session may
	// hold at once; one more is refused with CodeLimitExceeded.
	DefaultSubscriptionLimit = 64
	// DefaultSubscriptionBuffer is the most values one subscription may
	// hold that its client has not been sent yet. A value past it ends the
	// subscription with CodeLimitExceeded.
	DefaultSubscriptionBuffer = 256
)

// Names of the caps in the [CapData] of a CodeLimitExceeded error that
// subscriptions send.
const (
	LimitSubscriptions      = "subscriptions"       // the session holds as many subscriptions as it may
	LimitSubscriptionBuffer = "subscription_buffer" // the client did not read the values fast enough
)

// ErrSubscriptionEnded is returned by [Subscription.Send] once the
// subscription has ended, whatever ended it: its producer should return.
var ErrSubscriptionEnded = errors.New("rpc: subscription ended")

// Subscription is the producer's side of one subscription: the handle
// through which a method registered with [Server.RegisterSubscription]
// sends its client values of type T. The method receives it as an
// argument, as *Subscription[T]. It is safe for concurrent use.
type Subscription[T any] struct{ s *subscription }

// ID returns the subscription's id, as its client knows it.
func (s *Subscription[T]) ID() string { return s.s.id }

// Send queues v for the client and returns at once: it never waits for
// the client. It returns [ErrSubscriptionEnded] once the subscription has
// ended: unsubscribed, its credential lapsed, its connection closed, or
// its buffer ([WithSubscriptionBuffer]) full because the client reads too
// slowly, in which case this Send ends it. A value that cannot be encoded
// as JSON is an error and is not sent; the subscription goes on.
func (s *Subscription[T]) Send(v T) error { return s.s.sendValue(v) }

// subscriptionArg is implemented by every *Subscription[T], so that
// registration can recognise the argument and the value type it carries.
type subscriptionArg interface {
	valueType() reflect.Type
	bind(*subscription)
	core() *subscription
}

func (*Subscription[T]) valueType() reflect.Type { return reflect.TypeFor[T]() }
func (s *Subscription[T]) bind(c *subscription)  { s.s = c }
func (s *Subscription[T]) core() *subscription   { return s.s }
func isSubscriptionArg(t reflect.Type) bool      { return t.Implements(subscriptionArgType) }

var subscriptionArgType = reflect.TypeFor[subscriptionArg]()

// SubscriptionInfo describes the method NS_subscribe that
// [Server.RegisterSubscription] made: the names of its notification and
// of its unsubscribe method, and the type of the values it sends. The
// openrpc package documents it as the x-subscription extension.
type SubscriptionInfo struct {
	Namespace    string
	Notification string       // NS_subscription: the method of the notifications carrying values
	Unsubscribe  string       // NS_unsubscribe
	Value        reflect.Type // the type of the values
}

// WithSubscriptionLimit sets the most subscriptions one session may hold
// at once (default [DefaultSubscriptionLimit], 64). A subscribe call past
// it is answered with CodeLimitExceeded, data
// {"limit":"subscriptions","max":n}.
func WithSubscriptionLimit(n int) Option { return func(c *config) { c.subLimit = n } }

// WithSubscriptionBuffer sets how many values one subscription may hold
// for its client (default [DefaultSubscriptionBuffer], 256). When its
// client reads too slowly and one more value would pass it, the
// subscription ends with a last notification carrying CodeLimitExceeded,
// data {"limit":"subscription_buffer","max":n}; the connection and its
// other subscriptions go on.
func WithSubscriptionBuffer(n int) Option { return func(c *config) { c.subBuffer = n } }

// ExpiringCredential is implemented by credentials that lapse at a known
// time, such as a token's "exp". A subscription arms a timer for it, so
// that it ends when its credential does rather than at its next check.
// The zero time means never.
type ExpiringCredential interface {
	Credential
	ExpiresAt() time.Time
}

// ExpiryScheme is implemented by schemes that know better than their
// credentials when those stop being accepted: a token's "exp" plus the
// verifier's leeway, say. A subscription uses it, when the scheme has it,
// instead of [ExpiringCredential]. The zero time means never.
type ExpiryScheme interface {
	CredentialExpiry(cred Credential) time.Time
}

// CredentialWatcher is implemented by schemes that can tell when
// credentials they accepted may have stopped passing [Revalidator]
// before they expire: when a revocation arrives, say. changes receives a
// value, coalesced, after each such change; it may be nil when the scheme
// has nothing to watch. stop ends the watch. Live subscriptions are
// rechecked on each value, so a revoked credential ends them at once
// instead of at the next call.
type CredentialWatcher interface {
	WatchCredentials() (changes <-chan struct{}, stop func())
}

// SubjectCredential is implemented by credentials that name the subject
// they stand for. When a session binds a new credential under a scheme
// that a subscription relies on (an in-band refresh, say), the
// subscription goes on if both name the same subject, and ends otherwise.
type SubjectCredential interface {
	Credential
	CredentialSubject() string
}

// RegisterSubscription registers the subscription namespace: the methods
// namespace_subscribe and namespace_unsubscribe, and the notifications
// namespace_subscription that carry its values, in go-ethereum's wire
// format (see Subscriptions in the package documentation).
//
// fn is a method as [Server.Register] takes it, with exactly one more
// argument, a *[Subscription][T], and only an error for result:
//
//	func(ctx context.Context, sub *rpc.Subscription[Event], p *security.Principal, f Filter) error
//
// It runs in a goroutine of its own once the subscription is open, and
// sends values with sub.Send until ctx is done, which happens when the
// subscription ends for any reason. Returning nil ends the subscription
// without a word to the client; returning an error ends it with a last
// notification carrying the error, as a call's error would be sent.
//
// opts apply to namespace_subscribe: its requirement is checked when
// subscribing and for as long as the subscription lives.
// namespace_unsubscribe has no requirement: it reaches only the
// subscriptions of the caller's own session.
func (s *Server) RegisterSubscription(namespace string, fn any, opts ...MethodOption) error {
	if namespace == "" || strings.HasPrefix(namespace, "rpc.") {
		return fmt.Errorf("rpc: subscription %q: the namespace must be non-empty and not start with \"rpc.\"", namespace)
	}
	info := &SubscriptionInfo{
		Namespace:    namespace,
		Notification: namespace + "_subscription",
		Unsubscribe:  namespace + "_unsubscribe",
	}
	subscribe := namespace + "_subscribe"
	for _, name := range []string{subscribe, info.Unsubscribe} {
		if _, dup := s.Method(name); dup {
			return fmt.Errorf("rpc: method %q: already registered", name)
		}
	}
	opts = append(opts[:len(opts):len(opts)], func(c *methodConfig) { c.sub = &subscriptionSpec{info: info} })
	if err := s.register(subscribe, fn, opts); err != nil {
		return err
	}
	s.live.registered.Store(true)
	return s.register(info.Unsubscribe, func(ctx context.Context, id string) (bool, error) {
		sess := SessionFrom(ctx)
		if sess == nil || sess.send == nil {
			return false, noSessionError(info.Unsubscribe)
		}
		if !sess.subs.unsubscribe(id) {
			return false, InvalidParams("subscription", "no such subscription")
		}
		return true, nil
	}, []MethodOption{
		Params("subscription"),
		Summary("Ends a subscription of " + subscribe + "."),
		Description("Ends the subscription with this id, opened on the same connection, and answers true. " +
			"No notification for it follows the answer."),
		Tags("subscription"),
		Errors(
			NewError(CodeInvalidParams, "Invalid params: no such subscription on this connection", nil),
			NewError(CodeInvalidRequest, "Invalid Request: called over a transport without sessions, such as HTTP", nil),
		),
	})
}

// MustRegisterSubscription is like RegisterSubscription but panics on
// error.
func (s *Server) MustRegisterSubscription(namespace string, fn any, opts ...MethodOption) {
	if err := s.RegisterSubscription(namespace, fn, opts...); err != nil {
		panic(err)
	}
}

// HasSubscriptions reports whether any subscription is registered, so
// that a transport can skip [HoldNotifications] when there is none.
func (s *Server) HasSubscriptions() bool { return s.live.registered.Load() }

// subscriptionSpec is what RegisterSubscription tells compile.
type subscriptionSpec struct {
	info *SubscriptionInfo
	arg  int // the index of the *Subscription[T] argument; -1 until found
	set  bool
}

func noSessionError(method string) *Error {
	return NewError(CodeInvalidRequest, "Invalid Request",
		method+" needs a connection with a session that can send notifications, such as a WebSocket")
}

// subscriptionArgument records that argument i of type t is the method's
// *Subscription[T], filled when a call subscribes.
func (c *compiled) subscriptionArgument(spec *subscriptionSpec, t reflect.Type, i int) error {
	if spec == nil {
		return errors.New("a *rpc.Subscription argument needs RegisterSubscription")
	}
	if spec.set {
		return errors.New("more than one *rpc.Subscription argument")
	}
	spec.set, spec.arg = true, i
	spec.info.Value = reflect.Zero(t).Interface().(subscriptionArg).valueType()
	if !encodable(spec.info.Value) {
		return fmt.Errorf("subscription value type %s cannot be encoded as JSON", spec.info.Value)
	}
	elem := t.Elem()
	c.addInjection(provider{typ: t, resolve: func(ctx context.Context) (reflect.Value, error) {
		sess := SessionFrom(ctx)
		if sess == nil || sess.send == nil {
			return reflect.Value{}, noSessionError(spec.info.Namespace + "_subscribe")
		}
		v := reflect.New(elem)
		v.Interface().(subscriptionArg).bind(&subscription{sess: sess, info: spec.info, callCtx: ctx})
		return v, nil
	}}, i)
	return nil
}

// compileSubscription makes the compiled method open a subscription: its
// function runs in a goroutine of its own, and the call answers the id.
func (s *Server) compileSubscription(m *Method, c *compiled, spec *subscriptionSpec) error {
	if !spec.set {
		return errors.New("a subscription needs a *rpc.Subscription[T] argument")
	}
	if m.Result != nil {
		return errors.New("a subscription returns only an error")
	}
	m.Result = reflect.TypeFor[string]()
	m.Subscription = spec.info
	run, ctxArg := c.run, c.ctxArg
	c.run = func(args []reflect.Value) (any, error) {
		sub := args[spec.arg].Interface().(subscriptionArg).core()
		err := sub.start(m, func(ctx context.Context) error {
			if ctxArg {
				args[0] = reflect.ValueOf(ctx)
			}
			_, err := run(args)
			return err
		})
		if err != nil {
			return nil, err
		}
		return sub.id, nil
	}
	return nil
}

// sendValue encodes v into a whole notification and queues it.
func (sub *subscription) sendValue(v any) error {
	buf := bytes.NewBuffer(make([]byte, 0, len(sub.prefix)+128))
	buf.Write(sub.prefix)
	enc := json.NewEncoder(buf)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("rpc: subscription value: %w", err)
	}
	msg := buf.Bytes()
	msg = append(msg[:len(msg)-1], "}}"...) // Encode ends with a newline
	if !utf8.Valid(msg) {
		return fmt.Errorf("rpc: subscription value: %w", errInvalidUTF8)
	}
	return sub.queueMessage(msg)
}
