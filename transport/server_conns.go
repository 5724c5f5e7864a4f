package transport

import (
	"net"
	"net/http"
	"sync"
)

// connLimiter counts a server's connections through ConnState. Every
// connection is in conns, with true while it is idle; idle counts those.
type connLimiter struct {
	max   int
	mu    sync.Mutex
	conns map[net.Conn]bool
	idle  int
}

func (l *connLimiter) track(c net.Conn, s http.ConnState) {
	l.mu.Lock()
	switch s {
	case http.StateNew:
		if len(l.conns) >= l.max && !l.evictIdle() {
			l.mu.Unlock()
			_ = c.Close() // never counted: its StateClosed finds nothing
			return
		}
		l.conns[c] = false
	case http.StateActive, http.StateIdle:
		idle, ok := l.conns[c]
		if !ok {
			break
		}
		now := s == http.StateIdle
		if idle != now {
			l.conns[c] = now
			if now {
				l.idle++
			} else {
				l.idle--
			}
		}
	case http.StateHijacked, http.StateClosed:
		if idle, ok := l.conns[c]; ok {
			delete(l.conns, c)
			if idle {
				l.idle--
			}
		}
	}
	l.mu.Unlock()
}

// evictIdle closes an idle connection, if there is one, and forgets it at
// once, so that its place is free for the caller.
func (l *connLimiter) evictIdle() bool {
	if l.idle == 0 {
		return false
	}
	for c, idle := range l.conns {
		if idle {
			delete(l.conns, c)
			l.idle--
			_ = c.Close() // evicted: nothing waits on it
			return true
		}
	}
	return false
}
