package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/wardenrpc/warden/security"
)

// Revoke implements [security.RevocationStore]. Revoking an id again with
// a later until moves it to the end of the log.
func (s *Store) Revoke(ctx context.Context, id string, until time.Time) error {
	err := s.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.StmtContext(ctx, s.revoke).ExecContext(ctx, id, untilMillis(until))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: revoke: %w", err)
	}
	return nil
}

// IsRevoked implements [security.RevocationStore], with one indexed query
// on the reader pool.
func (s *Store) IsRevoked(ctx context.Context, id string) (bool, error) {
	var one int
	switch err := s.isRevoked.QueryRowContext(ctx, id, millis(s.now())).Scan(&one); {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("sqlitestore: is revoked: %w", err)
	}
	return true, nil
}

// RevocationsSince implements [security.RevocationLog]. The cursor is the
// row's seq. SQLite commits one write transaction at a time, and a seq is
// taken inside its transaction, so seqs are in commit order.
func (s *Store) RevocationsSince(ctx context.Context, cursor int64, now time.Time) ([]security.Revocation, int64, error) {
	rows, err := s.since.QueryContext(ctx, cursor, millis(now))
	if err != nil {
		return nil, cursor, fmt.Errorf("sqlitestore: revocations since %d: %w", cursor, err)
	}
	// A full iteration closes rows and rows.Err reports how it ended; an
	// early return already carries an error.
	defer func() { _ = rows.Close() }()
	var out []security.Revocation
	for rows.Next() {
		var r security.Revocation
		var seq, until int64
		if err := rows.Scan(&seq, &r.ID, &until); err != nil {
			return nil, cursor, fmt.Errorf("sqlitestore: revocations since %d: %w", cursor, err)
		}
		r.Until = fromMillis(until)
		out = append(out, r)
		cursor = seq
	}
	if err := rows.Err(); err != nil {
		return nil, cursor, fmt.Errorf("sqlitestore: revocations since %d: %w", cursor, err)
	}
	return out, cursor, nil
}
