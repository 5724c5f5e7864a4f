package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/wardenrpc/warden/security"
)

// StartFamily implements [security.FamilyStore]. A family id already in
// use is an error.
func (s *Store) StartFamily(ctx context.Context, family, subject, tokenID string, expires time.Time) error {
	err := s.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.StmtContext(ctx, s.startFamily).ExecContext(ctx, family, subject, tokenID, millis(s.now()), untilMillis(expires))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: start family: %w", err)
	}
	return nil
}

// RotateFamily implements [security.FamilyStore]. It reads and updates
// the family in one IMMEDIATE transaction, which holds SQLite's write lock
// throughout: of two rotations of one token, from any process, the second
// reads what the first wrote.
func (s *Store) RotateFamily(ctx context.Context, family, spent, next string, expires time.Time) error {
	err := s.Write(ctx, func(tx *sql.Tx) error {
		// Read under the write lock, so that by one clock rotations are
		// dated in the order they commit.
		now := s.now()
		var live string
		var ended bool
		var exp int64
		err := tx.StmtContext(ctx, s.family).QueryRowContext(ctx, family).Scan(&live, &ended, &exp)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return security.ErrUnknownFamily
		case err != nil:
			return err
		case ended || now.After(fromMillis(exp)):
			return security.ErrUnknownFamily
		case live != spent:
			return security.ErrRefreshReused
		}
		_, err = tx.StmtContext(ctx, s.rotate).ExecContext(ctx, spent, next, millis(now), untilMillis(expires), family)
		return err
	})
	if err != nil && !errors.Is(err, security.ErrUnknownFamily) && !errors.Is(err, security.ErrRefreshReused) {
		return fmt.Errorf("sqlitestore: rotate family: %w", err)
	}
	return err
}

// EndFamily implements [security.FamilyStore]. The row stays until
// [Store.Sweep] finds it expired, so that a reuse of its tokens is still
// recognised.
func (s *Store) EndFamily(ctx context.Context, family string) error {
	err := s.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.StmtContext(ctx, s.endFamily).ExecContext(ctx, family)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: end family: %w", err)
	}
	return nil
}

// Family implements [security.FamilyStore], with one query on the reader
// pool. A family is kept until [Store.Sweep] finds it expired.
func (s *Store) Family(ctx context.Context, family string) (security.FamilyState, error) {
	var f security.FamilyState
	var rotated, expires int64
	err := s.familyState.QueryRowContext(ctx, family).Scan(&f.Subject, &f.Live, &f.Previous, &rotated, &expires, &f.Ended)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return security.FamilyState{}, security.ErrUnknownFamily
	case err != nil:
		return security.FamilyState{}, fmt.Errorf("sqlitestore: family: %w", err)
	}
	f.RotatedAt, f.Expires = fromMillis(rotated), fromMillis(expires)
	return f, nil
}
