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

// StartFamily implements [security.FamilyStore]. A family id already in
// use is an error.
func (s *Store) StartFamily(ctx context.Context, family, subject, tokenID string, expires time.Time) error {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO warden_refresh_families (family, subject, live_token, rotated_at, expires_at)
		VALUES ($1, $2, $3, $4, $5)`, family, subject, tokenID, s.now(), expires)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" { // unique_violation
		return errors.New("pgstore: start family: family id already in use")
	}
	if err != nil {
		return fmt.Errorf("pgstore: start family: %w", err)
	}
	return nil
}

// RotateFamily implements [security.FamilyStore]. The UPDATE that names
// the spent token is the atomic step: of two rotations of one token, the
// second waits for the first's row lock, then finds the token no longer
// live. The same statement reads, from its snapshot, whether the family
// is live at all, to tell reuse from an unknown family in one round trip.
func (s *Store) RotateFamily(ctx context.Context, family, spent, next string, expires time.Time) error {
	var rotated, live bool
	err := s.pool.QueryRow(ctx, `
		WITH u AS (
			UPDATE warden_refresh_families
			SET prev_token = $2, live_token = $3, expires_at = $4, rotated_at = $5
			WHERE family = $1 AND live_token = $2 AND NOT ended AND expires_at >= $5
			RETURNING 1
		)
		SELECT EXISTS (SELECT FROM u),
		       EXISTS (SELECT FROM warden_refresh_families
		               WHERE family = $1 AND NOT ended AND expires_at >= $5)`,
		family, spent, next, expires, s.now()).Scan(&rotated, &live)
	switch {
	case err != nil:
		return fmt.Errorf("pgstore: rotate family: %w", err)
	case rotated:
		return nil
	case live:
		return security.ErrRefreshReused
	}
	return security.ErrUnknownFamily
}

// EndFamily implements [security.FamilyStore]. The row stays until it
// expires, so that a reuse of its tokens is still recognised.
func (s *Store) EndFamily(ctx context.Context, family string) error {
	if _, err := s.pool.Exec(ctx, `UPDATE warden_refresh_families SET ended = true WHERE family = $1`, family); err != nil {
		return fmt.Errorf("pgstore: end family: %w", err)
	}
	return nil
}

// Family implements [security.FamilyStore], with one indexed read. A
// family is kept until [Store.Sweep] finds it expired.
func (s *Store) Family(ctx context.Context, family string) (security.FamilyState, error) {
	var f security.FamilyState
	err := s.pool.QueryRow(ctx, `
		SELECT subject, live_token, prev_token, rotated_at, expires_at, ended
		FROM warden_refresh_families WHERE family = $1`, family).
		Scan(&f.Subject, &f.Live, &f.Previous, &f.RotatedAt, &f.Expires, &f.Ended)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return security.FamilyState{}, security.ErrUnknownFamily
	case err != nil:
		return security.FamilyState{}, fmt.Errorf("pgstore: family: %w", err)
	}
	return f, nil
}
