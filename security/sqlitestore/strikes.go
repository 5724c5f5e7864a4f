package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/wardenrpc/warden/security"
)

// UpdateStrikes implements [security.ThrottleStore] in one IMMEDIATE
// transaction on the writer: it holds SQLite's write lock from the read
// to the commit, so concurrent updates, from any process, are serialized
// and none is retried. update runs once, inside the transaction.
func (s *Store) UpdateStrikes(ctx context.Context, key string, update func(security.Strikes) security.Strikes) error {
	err := s.Write(ctx, func(tx *sql.Tx) error {
		var old security.Strikes
		var n int
		var last, until sql.NullInt64
		switch err := tx.StmtContext(ctx, s.strikes).QueryRowContext(ctx, key).Scan(&n, &last, &until); {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		default:
			old = security.Strikes{N: n, Last: nullTime(last), Until: nullTime(until)}
		}
		st := update(old)
		if st.N == 0 && st.Last.IsZero() && st.Until.IsZero() {
			_, err := tx.StmtContext(ctx, s.deleteStrikes).ExecContext(ctx, key)
			return err
		}
		_, err := tx.StmtContext(ctx, s.putStrikes).ExecContext(ctx, key, st.N, nullMillis(st.Last), nullMillis(st.Until))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: update strikes: %w", err)
	}
	return nil
}

// SweepStrikes implements [security.ThrottleStore].
func (s *Store) SweepStrikes(ctx context.Context, t time.Time) error {
	err := s.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.StmtContext(ctx, s.sweepStrikes).ExecContext(ctx, millis(t))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: sweep strikes: %w", err)
	}
	return nil
}

// nullMillis stores the zero time as NULL, so that it reads back as zero.
func nullMillis(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: millis(t), Valid: true}
}

func nullTime(ms sql.NullInt64) time.Time {
	if !ms.Valid {
		return time.Time{}
	}
	return fromMillis(ms.Int64)
}
