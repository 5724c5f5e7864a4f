package rpc

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
)

// handleBatch answers a batch: msg is a JSON array within the depth limit.
func (s *Server) handleBatch(ctx context.Context, msg []byte) []byte {
	n := 0
	eachElement(msg, func([]byte) bool { n++; return n <= s.cfg.batchLimit })
	if n == 0 {
		return errorResponse(nil, invalidRequest("empty batch"))
	}
	if n > s.cfg.batchLimit {
		return s.refuseBatch(msg)
	}
	items := make([][]byte, 0, n)
	eachElement(msg, func(v []byte) bool { items = append(items, v); return true })

	b := &batchRun{out: make([][]byte, n), done: make([]bool, n), cut: n, limit: s.cfg.batchRespLimit}
	b.wake.L = &b.mu
	s.runBatch(ctx, n, func(ctx context.Context) { s.runItems(ctx, b, items) })

	// Calls past the cut did not run, or their responses were dropped.
	if b.cut < n {
		tooLarge := &Error{Code: CodeLimitExceeded, Message: "Limit exceeded",
			Data: CapData{Limit: LimitBatchResponseBytes, Max: b.limit}}
		for i := b.cut; i < n; i++ {
			switch env, answer, perr := parseEnvelope(items[i]); {
			case perr != nil:
				b.out[i] = errorResponse(answer, perr)
			case env.id != nil:
				b.out[i] = errorResponse(env.id, tooLarge)
			}
		}
	}
	return joinResponses(b.out)
}

// runItems runs a batch's items, as many at once as the batch concurrency
// allows, and records their responses in b.
func (s *Server) runItems(ctx context.Context, b *batchRun, items [][]byte) {
	if len(items) == 1 || s.cfg.batchConcurrency == 1 {
		for i, it := range items {
			if !b.start(i, 1) {
				break
			}
			b.finish(i, s.handleOne(ctx, it))
		}
		return
	}
	for i, it := range items {
		if !b.start(i, s.cfg.batchConcurrency) {
			break
		}
		go func() { b.finish(i, s.handleOne(ctx, it)) }()
	}
	b.wait()
}

// batchRun holds a batch's responses while its items run. Responses are
// taken in request order, whatever order the items finish in, so that
// where the response limit cuts the batch depends only on the responses,
// never on scheduling. Items are started in request order.
type batchRun struct {
	mu      sync.Mutex
	wake    sync.Cond // signalled whenever an item finishes
	out     [][]byte  // responses; nil for notifications
	done    []bool    // out[i] is final and not yet taken
	next    int       // items before next are taken
	taken   int       // bytes of the responses before next
	held    int       // bytes of finished responses at or after next
	cut     int       // items from cut on do not run; their responses are dropped
	running int
	limit   int // bytes; 0 for none
}

// start waits until item i may run, then reports whether it should: not
// when the limit has cut the batch before it. While the finished responses
// already pass the limit, no new item starts: those still running settle
// whether the batch is cut, and until then the memory a batch holds stays
// within the limit plus what the running items return.
func (b *batchRun) start(i, concurrency int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for b.running >= concurrency || b.limit > 0 && b.running > 0 && b.taken+b.held > b.limit {
		b.wake.Wait()
	}
	if i >= b.cut {
		return false
	}
	b.running++
	return true
}

// finish records item i's response and takes every response now complete
// in request order. The response that passes the limit is kept; every item
// after it is cut.
func (b *batchRun) finish(i int, resp []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.running--
	b.wake.Broadcast()
	if i >= b.cut {
		return
	}
	b.out[i], b.done[i] = resp, true
	b.held += len(resp)
	for b.next < b.cut && b.done[b.next] {
		size := len(b.out[b.next])
		b.done[b.next] = false
		b.held -= size
		b.taken += size
		b.next++
		if b.limit > 0 && b.taken > b.limit {
			b.cut = b.next
			for j := b.cut; j < len(b.out); j++ {
				if b.done[j] {
					b.held -= len(b.out[j])
					b.out[j], b.done[j] = nil, false
				}
			}
		}
	}
}

// wait returns when no item is running.
func (b *batchRun) wait() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for b.running > 0 {
		b.wake.Wait()
	}
}

// refuseBatch answers a batch over the item limit without running any of
// it. Each call gets its own CodeInvalidRequest with its id, so that every
// client can match every call it waits for. Items are only scanned: the
// work and the answer are bounded by the message's size. Notifications get
// nothing, and items that are not valid requests share one error with id
// null; when that leaves nothing, the answer is that one error alone, in
// an array, so the refusal is never silent.
func (s *Server) refuseBatch(msg []byte) []byte {
	e, _ := json.Marshal(invalidRequest(fmt.Sprintf("batch has more than %d items", s.cfg.batchLimit)))
	resp := []byte{'['}
	invalid := false
	eachElement(msg, func(v []byte) bool {
		env, _, perr := parseEnvelope(v)
		switch {
		case perr != nil:
			invalid = true
		case env.id != nil:
			resp = appendEncodedError(resp, env.id, e)
			resp = append(resp, ',')
		}
		return true
	})
	if invalid || len(resp) == 1 {
		resp = appendEncodedError(resp, nil, e)
		resp = append(resp, ',')
	}
	resp[len(resp)-1] = ']'
	return resp
}

// joinResponses makes a batch's answer from its items' responses: nil
// when every one is nil (a batch of notifications).
func joinResponses(out [][]byte) []byte {
	size := 2
	for _, r := range out {
		size += len(r) + 1
	}
	resp := make([]byte, 0, size)
	resp = append(resp, '[')
	for _, r := range out {
		if r == nil {
			continue
		}
		if len(resp) > 1 {
			resp = append(resp, ',')
		}
		resp = append(resp, r...)
	}
	if len(resp) == 1 {
		return nil
	}
	return append(resp, ']')
}
