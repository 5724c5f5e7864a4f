package rpc

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// faultLog writes the log lines that a caller can cause at will (a handler
// error, a result that cannot be encoded, a panic) at most once per
// interval for each method and message. Without it, one client repeating a
// failing call could flood the log at Error. The line that ends a quiet
// spell says how many were suppressed before it.
//
// Entries are keyed by method and message, never by error text, so the
// table grows with the registry, not with what clients send.
type faultLog struct {
	logger *slog.Logger
	every  time.Duration
	now    func() time.Time // replaced by tests

	mu      sync.Mutex
	entries map[faultKey]*faultEntry
}

type faultKey struct{ msg, method string }

type faultEntry struct {
	last       time.Time
	suppressed int
}

// faultLogInterval is how often each method may log each kind of fault.
const faultLogInterval = time.Second

func newFaultLog(l *slog.Logger) *faultLog {
	return &faultLog{logger: l, every: faultLogInterval, now: time.Now, entries: map[faultKey]*faultEntry{}}
}

// allow reports whether a line for msg and method may be written now, and
// how many were suppressed since the last one. A logger that drops Error
// lines costs no lock.
func (f *faultLog) allow(ctx context.Context, msg, method string) (suppressed int, ok bool) {
	if !f.logger.Enabled(ctx, slog.LevelError) {
		return 0, false
	}
	now := f.now()
	k := faultKey{msg, method}
	f.mu.Lock()
	defer f.mu.Unlock()
	e := f.entries[k]
	if e == nil {
		f.entries[k] = &faultEntry{last: now}
		return 0, true
	}
	if now.Sub(e.last) < f.every {
		e.suppressed++
		return 0, false
	}
	suppressed, e.suppressed, e.last = e.suppressed, 0, now
	return suppressed, true
}

// log writes msg at Error with the method and attrs, if allow lets it.
// attrs is called only then, so that costly ones (a stack) are built only
// for lines that are written.
func (f *faultLog) log(ctx context.Context, msg, method string, attrs func() []slog.Attr) {
	suppressed, ok := f.allow(ctx, msg, method)
	if !ok {
		return
	}
	all := append([]slog.Attr{slog.String("method", method)}, attrs()...)
	if suppressed > 0 {
		all = append(all, slog.Int("suppressed", suppressed))
	}
	f.logger.LogAttrs(ctx, slog.LevelError, msg, all...)
}
