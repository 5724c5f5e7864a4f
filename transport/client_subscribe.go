package transport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/wardenrpc/warden/rpc"
)

// DefaultClientSubscriptionBuffer is how many values a [ClientSubscription]
// holds that [ClientSubscription.Next] has not taken: 1024. One more ends
// the subscription with [ErrSubscriptionOverflow], so that a consumer that
// stops reading cannot make the client hold without bound, nor hold up the
// connection's other calls.
const DefaultClientSubscriptionBuffer = 1024

var (
	// ErrUnsubscribed is the error of a subscription after
	// [ClientSubscription.Unsubscribe].
	ErrUnsubscribed = errors.New("transport: unsubscribed")
	// ErrSubscriptionOverflow is the error of a subscription whose values
	// arrived faster than Next took them, past the client's buffer
	// ([WithClientSubscriptionBuffer]). The client unsubscribes it.
	ErrSubscriptionOverflow = errors.New("transport: subscription buffer full: values were not read in time")
)

// WithClientSubscriptionBuffer sets how many values a subscription holds
// that Next has not taken (default [DefaultClientSubscriptionBuffer]).
func WithClientSubscriptionBuffer(n int) ClientOption {
	return func(c *clientConfig) { c.subBuffer = n }
}

// ClientSubscription is a subscription opened by [Client.Subscribe]: the
// values the server sends for it, in order, and, once it has ended, why.
// It is safe for concurrent use.
type ClientSubscription struct {
	c         *Client
	namespace string
	id        string // set by the connection's reader before Subscribe returns
	max       int

	mu    sync.Mutex
	queue []json.RawMessage
	err   error         // why it ended; nil while it lives
	wake  chan struct{} // one slot: a value arrived, or it ended
	done  chan struct{} // closed when it ends
}

// Subscribe opens a subscription to namespace on a WebSocket connection,
// by calling namespace_subscribe with params (nil, a slice for positional
// params, or a map or struct for named ones), as go-ethereum's
// Client.Subscribe does. Its error is the call's: an *rpc.Error such as
// -32001 when the credential does not allow it, or -32005 at the
// server's cap on subscriptions. Over HTTP it fails: subscriptions need a
// connection.
func (c *Client) Subscribe(ctx context.Context, namespace string, params any) (*ClientSubscription, error) {
	if c.ws == nil {
		return nil, errors.New("transport: Subscribe needs a WebSocket connection")
	}
	max := c.ws.cfg.subBuffer
	if max <= 0 {
		max = DefaultClientSubscriptionBuffer
	}
	sub := &ClientSubscription{c: c, namespace: namespace, max: max,
		wake: make(chan struct{}, 1), done: make(chan struct{})}
	id := strconv.FormatInt(c.next.Add(1), 10)
	msg, err := encodeRequest(namespace+"_subscribe", params, id)
	if err != nil {
		return nil, err
	}
	c.ws.expect(id, sub)
	resps, err := c.ws.exchange(ctx, msg, []string{id})
	if err != nil {
		c.ws.forget(id, sub)
		return nil, err
	}
	if err := resps[0].decode(nil); err != nil {
		return nil, err
	}
	if sub.id == "" {
		return nil, fmt.Errorf("transport: %s_subscribe answered no subscription id", namespace)
	}
	return sub, nil
}

// ID returns the subscription's id, as the server gave it.
func (s *ClientSubscription) ID() string { return s.id }

// Next waits for the subscription's next value and decodes it into v,
// unless v is nil. Once the subscription has ended and its values have
// been taken, it returns why: an *rpc.Error that the server sent
// (-32001 with data.reason "expired" or "revoked" when the credential
// that opened it lapsed, -32003, or -32005 when the client read too
// slowly), [ErrUnsubscribed], [ErrSubscriptionOverflow], or the
// connection's error. It returns ctx's error when ctx ends first.
func (s *ClientSubscription) Next(ctx context.Context, v any) error {
	for {
		s.mu.Lock()
		if len(s.queue) > 0 {
			raw := s.queue[0]
			s.queue[0] = nil
			s.queue = s.queue[1:]
			s.mu.Unlock()
			if v == nil {
				return nil
			}
			if err := json.Unmarshal(raw, v); err != nil {
				return fmt.Errorf("transport: decoding subscription value: %w", err)
			}
			return nil
		}
		err := s.err
		s.mu.Unlock()
		if err != nil {
			return err
		}
		select {
		case <-s.wake:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Done is closed when the subscription ends; values received before may
// still wait for Next.
func (s *ClientSubscription) Done() <-chan struct{} { return s.done }

// Err returns why the subscription ended, or nil while it lives.
func (s *ClientSubscription) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Unsubscribe ends the subscription: it drops values not yet taken,
// calls namespace_unsubscribe, and returns that call's error. Next then
// returns [ErrUnsubscribed]. Unsubscribing a subscription that has ended
// already does nothing.
func (s *ClientSubscription) Unsubscribe(ctx context.Context) error {
	if !s.c.ws.drop(s) {
		return nil
	}
	s.end(ErrUnsubscribed, true)
	var ok bool
	return s.c.Call(ctx, s.namespace+"_unsubscribe", []string{s.id}, &ok)
}

// push adds a value; it reports false when the buffer is full.
func (s *ClientSubscription) push(v json.RawMessage) bool {
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		return true
	}
	if len(s.queue) >= s.max {
		s.mu.Unlock()
		return false
	}
	if len(s.queue) == 0 {
		s.queue = nil // let a burst's backing array go
	}
	s.queue = append(s.queue, v)
	s.mu.Unlock()
	s.signal()
	return true
}

// end records why the subscription ended, once; drop discards the values
// not yet taken.
func (s *ClientSubscription) end(err error, drop bool) {
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		return
	}
	s.err = err
	if drop {
		s.queue = nil
	}
	close(s.done)
	s.mu.Unlock()
	s.signal()
}

func (s *ClientSubscription) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// subscriptionParams are the params of a subscription's notification: a
// value, or the error that ended it.
type subscriptionParams struct {
	Subscription string          `json:"subscription"`
	Result       json.RawMessage `json:"result"`
	Error        *wireError      `json:"error"`
}

// expect registers sub to receive the id that the response to the
// subscribe call with request id reqID carries: the reader does it before
// reading on, so that no value that follows the response is missed.
func (c *wsClientConn) expect(reqID string, sub *ClientSubscription) {
	c.pmu.Lock()
	if c.opening == nil {
		c.opening = map[string]*ClientSubscription{}
		c.subs = map[string]*ClientSubscription{}
	}
	c.opening[reqID] = sub
	c.pmu.Unlock()
}

// forget removes sub, whose subscribe call failed on this side.
func (c *wsClientConn) forget(reqID string, sub *ClientSubscription) {
	c.pmu.Lock()
	delete(c.opening, reqID)
	if sub.id != "" && c.subs[sub.id] == sub {
		delete(c.subs, sub.id)
	}
	c.pmu.Unlock()
}

// drop removes sub and reports whether it was there.
func (c *wsClientConn) drop(sub *ClientSubscription) bool {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	if c.subs[sub.id] != sub {
		return false
	}
	delete(c.subs, sub.id)
	return true
}

// opened is called by the reader with the response to a call: when it
// opened a subscription, the subscription now receives its values. c.pmu
// is held.
func (c *wsClientConn) opened(r *response) {
	sub, ok := c.opening[string(r.ID)]
	if !ok {
		return
	}
	delete(c.opening, string(r.ID))
	if r.Error != nil || json.Unmarshal(r.Result, &sub.id) != nil || sub.id == "" {
		sub.id = ""
		return
	}
	c.subs[sub.id] = sub
}

// subscriptionNotification hands a notification to its subscription and
// reports whether it had one.
func (c *wsClientConn) subscriptionNotification(r *response) bool {
	if !strings.HasSuffix(r.Method, "_subscription") {
		return false
	}
	var p subscriptionParams
	if json.Unmarshal(r.Params, &p) != nil || p.Subscription == "" {
		return false
	}
	c.pmu.Lock()
	sub := c.subs[p.Subscription]
	if sub != nil && p.Error != nil {
		delete(c.subs, p.Subscription)
	}
	c.pmu.Unlock()
	if sub == nil {
		return false
	}
	if p.Error != nil {
		e := &rpc.Error{Code: p.Error.Code, Message: p.Error.Message}
		if len(p.Error.Data) > 0 {
			e.Data = p.Error.Data
		}
		sub.end(e, false)
		return true
	}
	if !sub.push(p.Result) {
		if c.drop(sub) {
			sub.end(ErrSubscriptionOverflow, false)
			go c.unsubscribeLater(sub)
		}
	}
	return true
}

// unsubscribeLater tells the server to stop a subscription the client
// dropped, without holding up the reader.
func (c *wsClientConn) unsubscribeLater(sub *ClientSubscription) {
	ctx, cancel := context.WithTimeout(context.Background(), max(c.cfg.writeTimeout, DefaultClientWriteTimeout))
	defer cancel()
	var ok bool
	_ = sub.c.Call(ctx, sub.namespace+"_unsubscribe", []string{sub.id}, &ok) // best effort: the values are dropped anyway
}

// endSubscriptions ends every subscription with the connection's error.
func (c *wsClientConn) endSubscriptions(err error) {
	c.pmu.Lock()
	subs := c.subs
	c.subs, c.opening = nil, nil
	c.pmu.Unlock()
	for _, sub := range subs {
		sub.end(fmt.Errorf("transport: connection closed: %w", err), false)
	}
}
