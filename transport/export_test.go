package transport

// ConnUsage is what one WebSocket connection holds, for tests.
type ConnUsage struct {
	Held    int64 // bytes of messages being served and answers not yet written
	Answers int   // answers not yet written
}

// Usage returns what each open WebSocket connection of h holds, and the
// bytes of unfinished inbound messages charged to its partial budget.
func Usage(h *Handler) (conns []ConnUsage, partial int64) {
	h.connMu.Lock()
	defer h.connMu.Unlock()
	for c := range h.conns {
		held, out := c.budget.usage()
		conns = append(conns, ConnUsage{held, out})
	}
	return conns, h.partial.Load()
}

// SetAfterTrack makes h call fn in each new WebSocket connection's
// goroutine as soon as Shutdown can see the connection.
func SetAfterTrack(h *Handler, fn func()) { h.afterTrack = fn }
