package sqlitestore_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// parallelism × GOMAXPROCS goroutines query at once, like a server
// answering many authenticated requests.
const parallelism = 16

// BenchmarkIsRevoked compares the store's reader pool (fixed size, no
// idle connection ever closed, prepared statement) with what the auth
// example did before: one database/sql pool with its defaults (2 idle
// connections, any number open), whose surplus connections are opened,
// set up with their PRAGMAs, and closed again, over and over.
// closed/op counts the connections the pool closed per query.
func BenchmarkIsRevoked(b *testing.B) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "warden.db")
	s := open(b, path)
	until := time.Now().Add(time.Hour)
	for i := range 1000 {
		must(b, s.Revoke(ctx, fmt.Sprintf("id-%d", 2*i), until))
	}

	b.Run("pool", func(b *testing.B) {
		before := s.Reader().Stats()
		var n atomic.Int64
		b.SetParallelism(parallelism)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := s.IsRevoked(ctx, fmt.Sprintf("id-%d", n.Add(1)%2000)); err != nil {
					b.Error(err)
					return
				}
			}
		})
		after := s.Reader().Stats()
		b.ReportMetric(float64(after.MaxIdleClosed-before.MaxIdleClosed)/float64(b.N), "closed/op")
	})

	// The auth example's pool and query, and the same pool with the
	// statement prepared, to tell the pool's share from the statement's.
	for _, prepared := range []bool{false, true} {
		name := "default-pool"
		if prepared {
			name += "-prepared"
		}
		b.Run(name, func(b *testing.B) {
			q := url.Values{"_pragma": {"busy_timeout(5000)", "foreign_keys(1)", "journal_mode(WAL)", "synchronous(NORMAL)"}}
			q.Set("_txlock", "immediate")
			db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
			must(b, err)
			defer db.Close()
			const query = `SELECT 1 FROM warden_revocations WHERE id = ? AND until >= ?`
			queryRow := func(args ...any) *sql.Row { return db.QueryRowContext(ctx, query, args...) }
			if prepared {
				stmt, err := db.PrepareContext(ctx, query)
				must(b, err)
				defer stmt.Close()
				queryRow = func(args ...any) *sql.Row { return stmt.QueryRowContext(ctx, args...) }
			}
			var n atomic.Int64
			b.SetParallelism(parallelism)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					var one int
					err := queryRow(fmt.Sprintf("id-%d", n.Add(1)%2000), time.Now().UnixMilli()).Scan(&one)
					if err != nil && err != sql.ErrNoRows {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(db.Stats().MaxIdleClosed)/float64(b.N), "closed/op")
		})
	}
}

// BenchmarkRevoke measures one write transaction on the writer.
func BenchmarkRevoke(b *testing.B) {
	ctx := context.Background()
	s := open(b, filepath.Join(b.TempDir(), "warden.db"))
	until := time.Now().Add(time.Hour)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		must(b, s.Revoke(ctx, fmt.Sprintf("id-%d", i), until))
	}
}

// BenchmarkRevocationsSince measures a follower's poll when nothing is new,
// which is what almost every poll is.
func BenchmarkRevocationsSince(b *testing.B) {
	ctx := context.Background()
	s := open(b, filepath.Join(b.TempDir(), "warden.db"))
	until := time.Now().Add(time.Hour)
	for i := range 1000 {
		must(b, s.Revoke(ctx, fmt.Sprintf("id-%d", i), until))
	}
	_, cursor, err := s.RevocationsSince(ctx, 0, time.Now())
	must(b, err)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := s.RevocationsSince(ctx, cursor, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
}
