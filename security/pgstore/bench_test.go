package pgstore_test

import (
	"crypto/rand"
	"testing"
	"time"
)

// The cost of the reads made per request, from parallel goroutines,
// over loopback: one round trip each, on a prepared statement.
func BenchmarkIsRevoked(b *testing.B) {
	ctx := b.Context()
	s := open(b, pg.Database(b))
	if err := s.Revoke(ctx, "revoked", time.Now().Add(time.Hour)); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if ok, err := s.IsRevoked(ctx, "revoked"); err != nil || !ok {
				b.Fatalf("IsRevoked = %v, %v", ok, err)
			}
		}
	})
}

func BenchmarkLookupSetting(b *testing.B) {
	ctx := b.Context()
	s := open(b, pg.Database(b))
	if _, err := s.Setting(ctx, "jwt_secret", func() ([]byte, error) { return make([]byte, 32), nil }); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.LookupSetting(ctx, "jwt_secret"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// The cost of a write: Revoke is one statement, serialized with every
// other Revoke on the counter row.
func BenchmarkRevoke(b *testing.B) {
	ctx := b.Context()
	s := open(b, pg.Database(b))
	until := time.Now().Add(time.Hour)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := s.Revoke(ctx, rand.Text(), until); err != nil {
				b.Fatal(err)
			}
		}
	})
}
