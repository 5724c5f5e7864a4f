package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wardenrpc/warden/security"
)

// maxTries bounds how often UpdateStrikes runs a transaction that
// PostgreSQL aborted to resolve a conflict.
const maxTries = 10

// UpdateStrikes implements [security.ThrottleStore]. In one transaction
// it locks key's row, creating it empty when there is none, calls update,
// and stores or deletes the result. The upsert that locks
// (INSERT … ON CONFLICT DO UPDATE … RETURNING) always returns a row, even
// when another transaction deletes the key meanwhile, which a SELECT …
// FOR UPDATE after an INSERT … DO NOTHING would not. The transaction is
// READ COMMITTED whatever the database's default; one aborted all the same
// for a serialization failure or a deadlock is run again, update included.
func (s *Store) UpdateStrikes(ctx context.Context, key string, update func(security.Strikes) security.Strikes) error {
	var err error
	for try := 0; try < maxTries; try++ {
		err = pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
			var old security.Strikes
			err := tx.QueryRow(ctx, `
				INSERT INTO warden_strikes AS s (key, n, last_at, locked_until) VALUES ($1, 0, $2, $2)
				ON CONFLICT (key) DO UPDATE SET n = s.n
				RETURNING n, last_at, locked_until`, key, time.Time{}).Scan(&old.N, &old.Last, &old.Until)
			if err != nil {
				return err
			}
			old.Last, old.Until = fromDB(old.Last), fromDB(old.Until)
			st := update(old)
			if st.N == 0 && st.Last.IsZero() && st.Until.IsZero() {
				_, err = tx.Exec(ctx, `DELETE FROM warden_strikes WHERE key = $1`, key)
			} else {
				_, err = tx.Exec(ctx, `UPDATE warden_strikes SET n = $2, last_at = $3, locked_until = $4 WHERE key = $1`,
					key, st.N, st.Last, st.Until)
			}
			return err
		})
		if !retryable(err) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("pgstore: update strikes: %w", err)
	}
	return nil
}

// retryable reports whether err is a conflict that running the
// transaction again resolves.
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) &&
		(pgErr.Code == "40001" || pgErr.Code == "40P01") // serialization_failure, deadlock_detected
}

// SweepStrikes implements [security.ThrottleStore].
func (s *Store) SweepStrikes(ctx context.Context, t time.Time) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM warden_strikes WHERE last_at < $1 AND locked_until <= $1`, t); err != nil {
		return fmt.Errorf("pgstore: sweep strikes: %w", err)
	}
	return nil
}
