package transport

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"

	"github.com/wardenrpc/warden/rpc"
)

// WebSocket memory defaults. Each can be changed with an [Option].
const (
	// DefaultConnectionBudget is the most bytes one WebSocket connection
	// may make the server hold (messages being served and answers not yet
	// written) before reading from it pauses: 2 MiB, room for a message of
	// the largest size while an answer as large is written. It bounds what
	// a client that never reads can pin to about one large answer, where
	// 16 calls in flight could otherwise pin 16.
	DefaultConnectionBudget = 2 << 20

	// DefaultPartialBudget is the most bytes that unfinished inbound
	// messages may hold across all WebSocket connections of a handler:
	// 64 MiB, room for 64 messages of the largest size arriving at once.
	// A message at wire speed is complete in milliseconds, so only slow or
	// hostile senders meet the budget; without it, 10,000 connections
	// each holding a half-sent 1 MiB message would pin 10 GiB.
	DefaultPartialBudget = 64 << 20
)

// partialFree is how much of a message is read without being charged to
// the handler's partial budget, so that small messages never touch it and
// a full budget still lets them through. It costs at most partialFree per
// connection.
const partialFree = 4 << 10

// limitRetryAfter is the retry_after_ms of an answer replaced because its
// connection's budget was full: long enough for a client that reads to
// take in a few MiB.
const limitRetryAfter = 500

// connBudget counts the bytes one connection makes the server hold: the
// messages whose calls are running and the answers not yet written.
type connBudget struct {
	max     int64
	mu      sync.Mutex
	held    int64
	out     int           // answers not yet written
	waiters int           // goroutines waiting on room
	room    chan struct{} // closed, and replaced, when bytes are released while someone waits
}

// add charges n bytes of a message whose call starts.
func (b *connBudget) add(n int64) {
	b.mu.Lock()
	b.held += n
	b.mu.Unlock()
}

// release gives back n bytes, of which answers were answers.
func (b *connBudget) release(n int64, answers int) {
	b.mu.Lock()
	b.held -= n
	b.out -= answers
	b.wake()
	b.mu.Unlock()
}

// wake lets every waiter look again. b.mu is held.
func (b *connBudget) wake() {
	if b.waiters > 0 {
		close(b.room)
		b.room = make(chan struct{})
		b.waiters = 0
	}
}

// waitBelow blocks while the connection holds its budget or more, and
// reports false if done closes first.
func (b *connBudget) waitBelow(done <-chan struct{}) bool {
	for {
		b.mu.Lock()
		if b.held < b.max {
			b.mu.Unlock()
			return true
		}
		room := b.waitOn()
		b.mu.Unlock()
		select {
		case <-room:
		case <-done:
			return false
		}
	}
}

// waitOn registers a waiter and returns the channel to wait on. b.mu is
// held.
func (b *connBudget) waitOn() chan struct{} {
	if b.room == nil {
		b.room = make(chan struct{})
	}
	b.waiters++
	return b.room
}

// fits reports whether an answer of n bytes may be held now: when it
// stays within the budget, or when no other answer waits, so that an
// answer larger than the whole budget can still go out. b.mu is held.
func (b *connBudget) fits(n int64) bool {
	return b.out == 0 || b.held+n <= b.max
}

// finish gives back a finished call's message of in bytes and charges its
// answer, or, when the answer does not fit, reports false and charges
// nothing for it.
func (b *connBudget) finish(in int64, answer []byte) bool {
	n := int64(len(answer))
	b.mu.Lock()
	b.held -= in
	ok := b.fits(n)
	if ok {
		b.held += n
		b.out++
	}
	b.wake()
	b.mu.Unlock()
	return ok
}

// charge charges an answer whatever the budget: one that replaces a
// larger one.
func (b *connBudget) charge(answer []byte) {
	b.mu.Lock()
	b.held += int64(len(answer))
	b.out++
	b.mu.Unlock()
}

// admit waits until an answer of n bytes fits, and charges it.
func (b *connBudget) admit(ctx context.Context, n int64, done <-chan struct{}) error {
	for {
		b.mu.Lock()
		if b.fits(n) {
			b.held += n
			b.out++
			b.mu.Unlock()
			return nil
		}
		room := b.waitOn()
		b.mu.Unlock()
		select {
		case <-room:
		case <-done:
			return errClosed
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// usage returns the bytes held and the answers not yet written.
func (b *connBudget) usage() (int64, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.held, b.out
}

// limitErr is the error object of a replaced answer.
var limitErr, _ = json.Marshal(rpc.LimitExceeded(limitRetryAfter))

// limitAnswer returns answer, a single response or a batch's, with each
// response in it replaced by -32005 under the same id.
func limitAnswer(answer []byte) []byte {
	type item struct {
		ID json.RawMessage `json:"id"`
	}
	var ids []json.RawMessage
	batch := bytes.HasPrefix(bytes.TrimLeft(answer, " \t\r\n"), []byte("["))
	if batch {
		var items []item
		_ = json.Unmarshal(answer, &items) // the server's own encoding; an id it lacked would be null
		for _, it := range items {
			ids = append(ids, it.ID)
		}
	} else {
		var it item
		_ = json.Unmarshal(answer, &it) // the server's own encoding; an id it lacked would be null
		ids = append(ids, it.ID)
	}
	var out []byte
	if batch {
		out = append(out, '[')
	}
	for i, id := range ids {
		if i > 0 {
			out = append(out, ',')
		}
		if len(id) == 0 {
			id = json.RawMessage("null")
		}
		out = append(out, `{"jsonrpc":"2.0","error":`...)
		out = append(out, limitErr...)
		out = append(out, `,"id":`...)
		out = append(out, id...)
		out = append(out, '}')
	}
	if batch {
		out = append(out, ']')
	}
	return out
}
