package rpc_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/wardenrpc/warden/rpc"
)

// decodeBatch decodes a batch's answer, failing unless it is an array of
// response objects.
func decodeBatch(tb testing.TB, raw []byte) []response {
	tb.Helper()
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		tb.Fatalf("batch answer %s: %v", raw, err)
	}
	out := make([]response, len(items))
	for i, it := range items {
		out[i] = decodeResponse(tb, it)
	}
	return out
}

// Regression: a batch over the item limit was answered with one error
// object with id null, which no client could match to its calls:
// go-ethereum's client waited for its deadline and jrpc2 dropped the
// answer. Now each call gets its own error, with its id.
func TestBatchOverLimitAnswersEachCall(t *testing.T) {
	var ran atomic.Int32
	s := rpc.NewServer(rpc.WithBatchLimit(3))
	s.MustRegister("count", func() int { return int(ran.Add(1)) })
	ctx := context.Background()

	for _, tc := range []struct {
		name  string
		items []string
		ids   []string // the ids answered, in order
	}{
		{"calls", []string{
			`{"jsonrpc":"2.0","method":"count","id":1}`,
			`{"jsonrpc":"2.0","method":"count","id":"two"}`,
			`{"jsonrpc":"2.0","method":"count","id":3.50}`,
			`{"jsonrpc":"2.0","method":"nope","id":"\u0041"}`,
		}, []string{`1`, `"two"`, `3.50`, `"\u0041"`}},
		{"notifications get nothing", []string{
			`{"jsonrpc":"2.0","method":"count"}`,
			`{"jsonrpc":"2.0","method":"count","id":1}`,
			`{"jsonrpc":"2.0","method":"count"}`,
			`{"jsonrpc":"2.0","method":"count","id":2}`,
		}, []string{`1`, `2`}},
		{"a null id is a call", []string{
			`{"jsonrpc":"2.0","method":"count","id":null}`,
			`{"jsonrpc":"2.0","method":"count","id":1}`,
			`{"jsonrpc":"2.0","method":"count"}`,
			`{"jsonrpc":"2.0","method":"count"}`,
		}, []string{`null`, `1`}},
		{"invalid items share one error with id null", []string{
			`1`,
			`{"jsonrpc":"2.0","method":"count","id":1}`,
			`{"jsonrpc":"1.0","method":"count","id":2}`,
			`{"method":"count","id":[3]}`,
			`{"jsonrpc":"2.0","method":"count","id":"\udc00"}`,
		}, []string{`1`, `null`}},
		{"only notifications", []string{
			`{"jsonrpc":"2.0","method":"count"}`,
			`{"jsonrpc":"2.0","method":"count"}`,
			`{"jsonrpc":"2.0","method":"count"}`,
			`{"jsonrpc":"2.0","method":"count"}`,
		}, []string{`null`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := s.Handle(ctx, []byte("["+strings.Join(tc.items, ",")+"]"))
			got := decodeBatch(t, raw)
			if len(got) != len(tc.ids) {
				t.Fatalf("got %d answers, want %d: %s", len(got), len(tc.ids), raw)
			}
			for i, r := range got {
				wantError(t, r, rpc.CodeInvalidRequest, `"batch has more than 3 items"`)
				if string(r.ID) != tc.ids[i] {
					t.Errorf("answer %d: id %s, want %s", i, r.ID, tc.ids[i])
				}
			}
			if n := ran.Load(); n != 0 {
				t.Fatalf("%d items of a batch over the limit ran", n)
			}
		})
	}
}

// The answer to a batch over the limit is bounded by the message's size,
// whatever its items are: a client cannot turn a small message into a
// large answer.
func TestBatchOverLimitAnswerIsBounded(t *testing.T) {
	s := rpc.NewServer(rpc.WithBatchLimit(3))
	ctx := context.Background()
	for _, tc := range []struct{ name, item string }{
		{"numbers", `1`},
		{"empty objects", `{}`},
		{"ids without a request", `{"id":1}`},
		{"smallest calls", `{"jsonrpc":"2.0","method":"","id":0}`},
		{"notifications", `{"jsonrpc":"2.0","method":""}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := "[" + strings.TrimSuffix(strings.Repeat(tc.item+",", 10000), ",") + "]"
			raw := s.Handle(ctx, []byte(msg))
			decodeBatch(t, raw)
			if len(raw) > 4*len(msg)+200 {
				t.Fatalf("a %d-byte batch over the limit got a %d-byte answer", len(msg), len(raw))
			}
		})
	}
}

// blob answers a string of n bytes.
func newBlobServer(tb testing.TB, opts ...rpc.Option) (*rpc.Server, *atomic.Int32) {
	tb.Helper()
	var ran atomic.Int32
	s := rpc.NewServer(opts...)
	s.MustRegister("blob", func(n int) string { ran.Add(1); return strings.Repeat("x", n) }, rpc.Params("n"))
	return s, &ran
}

func blobBatch(sizes ...int) []byte {
	items := make([]string, len(sizes))
	for i, n := range sizes {
		items[i] = fmt.Sprintf(`{"jsonrpc":"2.0","method":"blob","params":[%d],"id":%d}`, n, i)
	}
	return []byte("[" + strings.Join(items, ",") + "]")
}

// blobSize is the size of blob's response to a call with a one-digit id.
func blobSize(n int) int { return len(`{"jsonrpc":"2.0","result":"","id":0}`) + n }

// Regression: a 5.6 KB batch of 100 rpc.discover calls made a 1.23 MB
// answer. Past the batch response limit, calls are not run and get -32005
// naming the limit, as go-ethereum does (with its own code).
func TestBatchResponseLimit(t *testing.T) {
	limit := 2*blobSize(100) + 10
	s, ran := newBlobServer(t, rpc.WithBatchResponseLimit(limit), rpc.WithBatchConcurrency(1))
	raw := s.Handle(context.Background(), blobBatch(100, 100, 100, 100, 100))
	got := decodeBatch(t, raw)
	if len(got) != 5 {
		t.Fatalf("got %d answers, want 5: %s", len(got), raw)
	}
	// The third response passes the limit: it is still sent; the calls
	// after it are not run.
	for i, r := range got[:3] {
		wantResult(t, r, `"`+strings.Repeat("x", 100)+`"`)
		if string(r.ID) != fmt.Sprint(i) {
			t.Errorf("answer %d has id %s", i, r.ID)
		}
	}
	for i, r := range got[3:] {
		wantError(t, r, rpc.CodeLimitExceeded)
		if !sameJSON(t, string(r.Error.Data), fmt.Sprintf(`{"limit":"batch_response_bytes","max":%d}`, limit)) {
			t.Errorf("data %s", r.Error.Data)
		}
		if string(r.ID) != fmt.Sprint(i+3) {
			t.Errorf("answer %d has id %s", i+3, r.ID)
		}
	}
	if n := ran.Load(); n != 3 {
		t.Errorf("%d calls ran, want 3", n)
	}

	// Notifications past the limit do not run either, and get nothing;
	// an invalid item gets its usual error.
	ran.Store(0)
	msg := `[{"jsonrpc":"2.0","method":"blob","params":[600],"id":1},
		{"jsonrpc":"2.0","method":"blob","params":[1]},
		{"jsonrpc":"2.0","method":"blob","params":[1],"id":2},
		{"jsonrpc":"2.0","id":3}]`
	got = decodeBatch(t, s.Handle(context.Background(), []byte(msg)))
	if len(got) != 3 || got[0].Error != nil || got[1].Error == nil || got[1].Error.Code != rpc.CodeLimitExceeded ||
		got[2].Error == nil || got[2].Error.Code != rpc.CodeInvalidRequest || string(got[2].ID) != "3" {
		t.Fatalf("got %+v", got)
	}
	if n := ran.Load(); n != 1 {
		t.Errorf("%d items ran, want 1", n)
	}
}

// The default limit is 1 MiB: the probe's batch of 100 answers of 12 KB
// each is cut, and its first calls are answered.
func TestBatchResponseLimitDefault(t *testing.T) {
	s, _ := newBlobServer(t)
	sizes := make([]int, 100)
	for i := range sizes {
		sizes[i] = 12 << 10
	}
	raw := s.Handle(context.Background(), blobBatch(sizes...))
	if len(raw) > rpc.DefaultBatchResponseLimit+(13<<10)+100*200 {
		t.Fatalf("the answer is %d bytes", len(raw))
	}
	got := decodeBatch(t, raw)
	answered := 0
	for _, r := range got {
		if r.Error == nil {
			answered++
		} else {
			wantError(t, r, rpc.CodeLimitExceeded, `"max":1048576`)
		}
	}
	if want := rpc.DefaultBatchResponseLimit/blobSize(12<<10) + 1; answered != want {
		t.Errorf("%d calls answered, want %d", answered, want)
	}

	// No limit.
	s, _ = newBlobServer(t, rpc.WithBatchResponseLimit(0))
	for _, r := range decodeBatch(t, s.Handle(context.Background(), blobBatch(sizes...))) {
		if r.Error != nil {
			t.Fatalf("without a limit: error %d", r.Error.Code)
		}
	}
}

// Items run concurrently and finish in any order; what the client sees
// depends only on the responses, in request order. Here the first item
// finishes last, after three later ones that pass the limit between them:
// the answer is the same as when the batch runs one item at a time, and
// no item starts while the finished responses pass the limit.
func TestBatchResponseLimitUnderConcurrency(t *testing.T) {
	limit := 2*blobSize(200) + blobSize(200)/2
	batch := blobBatch(1, 200, 200, 200, 200, 200, 200, 200, 200, 200)

	serial, _ := newBlobServer(t, rpc.WithBatchResponseLimit(limit), rpc.WithBatchConcurrency(1))
	want := serial.Handle(context.Background(), batch)

	gate := make(chan struct{})
	finished := make(chan struct{}, 16)
	var ran atomic.Int32
	s := rpc.NewServer(rpc.WithBatchResponseLimit(limit), rpc.WithBatchConcurrency(4))
	s.MustRegister("blob", func(n int) string {
		ran.Add(1)
		if n == 1 {
			<-gate // the first item waits for three others
		} else {
			defer func() { finished <- struct{}{} }()
		}
		return strings.Repeat("x", n)
	}, rpc.Params("n"))
	go func() {
		for range 3 {
			<-finished
		}
		close(gate)
	}()
	got := s.Handle(context.Background(), batch)
	if string(got) != string(want) {
		t.Fatalf("concurrent answer differs from the serial one\n got %s\nwant %s", got, want)
	}
	// Items 1 to 3 finish and pass the limit between them; while two of
	// them had finished, items 4 and 5 could start. After the third, no
	// item may start until the first one finishes, and then the batch is
	// cut after item 3.
	if n := ran.Load(); n > 6 {
		t.Errorf("%d items ran, want at most 6: items started while the finished responses already passed the limit", n)
	}

	// Whatever the scheduling, the answer is the same.
	s, _ = newBlobServer(t, rpc.WithBatchResponseLimit(limit), rpc.WithBatchConcurrency(8))
	for range 200 {
		if got := s.Handle(context.Background(), batch); string(got) != string(want) {
			t.Fatalf("answer differs from the serial one\n got %s\nwant %s", got, want)
		}
	}
}
