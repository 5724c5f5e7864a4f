package transport

import (
	"time"

	"github.com/wardenrpc/warden/rpc"
)

// startCall counts a new call in flight, unless the connection is
// draining. Both happen under drainMu, so once drain has begun no call is
// added behind its back.
func (c *wsConn) startCall() bool {
	c.drainMu.Lock()
	defer c.drainMu.Unlock()
	if c.draining {
		return false
	}
	c.calls.Add(1)
	return true
}

// workerIdle is how long a worker waits for another message before it
// exits.
const workerIdle = time.Second

func (c *wsConn) work(msg []byte) {
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		c.serve(msg)
		idle.Reset(workerIdle)
		select {
		case msg = <-c.queue:
		case <-idle.C:
			return
		case <-c.done:
			return
		}
	}
}

func (c *wsConn) serve(msg []byte) {
	defer func() {
		<-c.sem
		c.calls.Done()
	}()
	ctx := c.ctx
	if c.h.srv.HasSchemes() {
		ctx = rpc.WithCredentials(ctx, c.sess.Credentials())
	}
	release := func() {}
	if c.h.srv.HasSubscriptions() {
		// A subscription's values follow the answer that gives its id.
		ctx, release = rpc.HoldNotifications(ctx)
	}
	defer release()
	resp := c.h.srv.Handle(ctx, msg)
	if resp == nil {
		c.budget.release(int64(cap(msg)), 0)
		return
	}
	// An answer that would take the connection past its budget while
	// others wait to be written is not kept: its client gets -32005
	// instead, and can ask again once it has read what it asked for.
	if !c.budget.finish(int64(cap(msg)), resp) {
		resp = limitAnswer(resp)
		c.budget.charge(resp)
		c.h.hits.answersReplaced.Add(1)
		// Subscriptions the replaced answer opened would send values
		// under ids the client never got.
		rpc.CancelHeld(ctx)
	}
	_ = c.send(ctx, resp) // a failed write has closed the connection
}
