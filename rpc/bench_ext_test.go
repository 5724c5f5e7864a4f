package rpc_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// The benchmarks measure Server.Handle alone, without a transport: one
// call by position and by name, a notification, and a batch.

func BenchmarkHandleSingle(b *testing.B) {
	s := newSpecServer(b)
	ctx := context.Background()
	msg := []byte(`{"jsonrpc":"2.0","method":"subtract","params":[42,23],"id":1}`)
	b.ReportAllocs()
	for b.Loop() {
		if s.Handle(ctx, msg) == nil {
			b.Fatal("no response")
		}
	}
}

func BenchmarkHandleNamed(b *testing.B) {
	s := newSpecServer(b)
	ctx := context.Background()
	msg := []byte(`{"jsonrpc":"2.0","method":"subtract","params":{"subtrahend":23,"minuend":42},"id":"a string id"}`)
	b.ReportAllocs()
	for b.Loop() {
		if s.Handle(ctx, msg) == nil {
			b.Fatal("no response")
		}
	}
}

func BenchmarkHandleNotification(b *testing.B) {
	s := newSpecServer(b)
	ctx := context.Background()
	msg := []byte(`{"jsonrpc":"2.0","method":"notify_hello","params":[7]}`)
	b.ReportAllocs()
	for b.Loop() {
		if s.Handle(ctx, msg) != nil {
			b.Fatal("a notification was answered")
		}
	}
}

func BenchmarkHandleBatch10(b *testing.B) {
	s := newSpecServer(b)
	ctx := context.Background()
	items := make([]string, 10)
	for i := range items {
		items[i] = fmt.Sprintf(`{"jsonrpc":"2.0","method":"subtract","params":[%d,1],"id":%d}`, i, i)
	}
	msg := []byte("[" + strings.Join(items, ",") + "]")
	b.ReportAllocs()
	for b.Loop() {
		if s.Handle(ctx, msg) == nil {
			b.Fatal("no response")
		}
	}
}
