package transport

import (
	"io"
	"net/http"
	"time"

	"github.com/gorilla/websocket"
)

// bodyDeadline bounds the time a request body takes to arrive: the
// connection's read deadline starts at the body timeout, or at the grace
// period when a minimum rate is set, and moves on as bytes arrive.
type bodyDeadline struct {
	next http.Handler
	cfg  serverConfig
}

func (b *bodyDeadline) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Body == nil || r.Body == http.NoBody || websocket.IsWebSocketUpgrade(r) {
		b.next.ServeHTTP(w, r)
		return
	}
	rc := http.NewResponseController(w)
	now := time.Now()
	br := &rateReader{body: r.Body, rc: rc, start: now, rate: b.cfg.minRate, grace: b.cfg.rateGrace}
	if b.cfg.body > 0 {
		br.end = now.Add(b.cfg.body)
	}
	if br.setDeadline(br.next(0)) != nil {
		b.next.ServeHTTP(w, r) // not a connection that takes deadlines
		return
	}
	r.Body = br
	b.next.ServeHTTP(w, r)
}

// rateReader moves the connection's read deadline on as a body arrives.
// The deadline is start + grace + read/rate, never past end; it is set
// again only once it has moved by a quarter of grace, so that a body read
// in large pieces costs few updates.
type rateReader struct {
	body  io.ReadCloser
	rc    *http.ResponseController
	start time.Time
	end   time.Time // zero: no overall bound
	rate  int64
	grace time.Duration
	read  int64
	set   time.Time // the deadline in force
	done  bool
}

func (r *rateReader) next(read int64) time.Time {
	var d time.Time
	if r.rate > 0 {
		d = r.start.Add(r.grace + time.Duration(float64(read)/float64(r.rate)*float64(time.Second)))
	}
	if !r.end.IsZero() && (d.IsZero() || d.After(r.end)) {
		d = r.end
	}
	return d
}

func (r *rateReader) setDeadline(d time.Time) error {
	r.set = d
	return r.rc.SetReadDeadline(d)
}

func (r *rateReader) Read(p []byte) (int, error) {
	n, err := r.body.Read(p)
	if r.done {
		return n, err
	}
	if err != nil {
		// At the end of the body the server clears the deadline itself,
		// for its own background read; touching it now would cut that
		// read, and the request's context with it.
		r.done = true
		return n, err
	}
	r.read += int64(n)
	if r.rate > 0 {
		if d := r.next(r.read); d.Sub(r.set) > r.grace/4 {
			_ = r.setDeadline(d) // it took one at the start; a closed connection fails the next read
		}
	}
	return n, err
}

func (r *rateReader) Close() error { return r.body.Close() }
