package rpc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"testing"
	"time"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncBuffer) lines() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Split(strings.TrimSpace(w.b.String()), "\n")
}

// Regression: subtract [1.7e308,-1.7e308] makes +Inf, which cannot be
// encoded, and each such call wrote an ERROR line: a client could flood
// the log at will. Handler errors, encoding failures and panics are now
// logged at most once a second per method, and the next line says how
// many were suppressed. The clock stands still here, so the test does not
// depend on how fast the machine runs the calls.
func TestClientCausedFaultsDoNotFloodTheLog(t *testing.T) {
	var logs syncBuffer
	s := NewServer(WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	now := time.Unix(1_000_000, 0)
	var clock sync.Mutex
	s.faults.now = func() time.Time { clock.Lock(); defer clock.Unlock(); return now }
	s.MustRegister("subtract", func(a, b float64) float64 { return a - b }, Params("minuend", "subtrahend"))
	s.MustRegister("plain", func() error { return errors.New("db down") })
	s.MustRegister("boom", func() error { panic("boom") })
	ctx := context.Background()

	calls := map[string]string{
		"result encoding failed": `{"jsonrpc":"2.0","method":"subtract","params":[1.7e308,-1.7e308],"id":%d}`,
		"handler error":          `{"jsonrpc":"2.0","method":"plain","id":%d}`,
		"handler panic":          `{"jsonrpc":"2.0","method":"boom","id":%d}`,
	}
	for _, c := range calls {
		// 1,000 calls: 500 singly, 500 in batches of 10, whose items run
		// concurrently.
		for i := range 500 {
			s.Handle(ctx, fmt.Appendf(nil, c, i))
		}
		for range 50 {
			items := make([]string, 10)
			for j := range items {
				items[j] = fmt.Sprintf(c, j)
			}
			s.Handle(ctx, []byte("["+strings.Join(items, ",")+"]"))
		}
	}
	lines := logs.lines()
	if len(lines) != len(calls) {
		t.Fatalf("3,000 failing calls wrote %d lines, want %d:\n%s", len(lines), len(calls), strings.Join(lines, "\n"))
	}
	for msg := range calls {
		if !strings.Contains(logs.b.String(), "msg=\""+msg+"\"") {
			t.Errorf("no line %q", msg)
		}
	}
	if !strings.Contains(logs.b.String(), "goroutine") {
		t.Error("the panic's line has no stack")
	}

	// A second later, the next failure is logged with the count of those
	// suppressed meanwhile.
	clock.Lock()
	now = now.Add(time.Second)
	clock.Unlock()
	s.Handle(ctx, []byte(`{"jsonrpc":"2.0","method":"plain","id":1}`))
	lines = logs.lines()
	if last := lines[len(lines)-1]; len(lines) != 4 || !strings.Contains(last, "suppressed=999") || !strings.Contains(last, "method=plain") {
		t.Fatalf("after a second: %d lines, last %q, want 4 with suppressed=999", len(lines), last)
	}
	// Each method has its own allowance.
	s.MustRegister("inf", func() float64 { return math.Inf(1) })
	s.Handle(ctx, []byte(`{"jsonrpc":"2.0","method":"inf","id":1}`))
	if lines = logs.lines(); len(lines) != 5 || !strings.Contains(lines[4], "method=inf") {
		t.Fatalf("another method's failure was not logged: %q", lines)
	}
}
