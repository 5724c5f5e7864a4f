package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wardenrpc/warden/security"
)

// revocationChannel is the channel of LISTEN/NOTIFY on which Revoke
// announces a commit.
const revocationChannel = "warden_revocations"

// watchApplicationName names the watch's connection in pg_stat_activity.
const watchApplicationName = "warden revocation watch"

// Revoke implements [security.RevocationStore]. Revoking an id again with
// a later time moves it to a new sequence number, so that every
// [security.RevocationCache] reads it again; an earlier time changes
// nothing. It is one statement, so one round trip and one transaction:
// taking the next number locks the counter row until commit, which is
// what makes the sequence commit-ordered (see the package doc), and the
// notification goes out when the transaction commits.
func (s *Store) Revoke(ctx context.Context, id string, until time.Time) error {
	_, err := s.pool.Exec(ctx, `
		WITH seq AS (
			UPDATE warden_revocation_seq SET n = n + 1 RETURNING n
		), r AS (
			INSERT INTO warden_revocations AS r (id, until, seq)
			VALUES ($1, $2, (SELECT n FROM seq))
			ON CONFLICT (id) DO UPDATE SET until = excluded.until, seq = excluded.seq
				WHERE r.until < excluded.until
			RETURNING 1
		)
		SELECT pg_notify('`+revocationChannel+`', '') FROM r`, id, until)
	if err != nil {
		return fmt.Errorf("pgstore: revoke: %w", err)
	}
	return nil
}

// IsRevoked implements [security.RevocationStore]: one indexed read.
func (s *Store) IsRevoked(ctx context.Context, id string) (bool, error) {
	var revoked bool
	err := s.pool.QueryRow(ctx,
		`SELECT EXISTS (SELECT FROM warden_revocations WHERE id = $1 AND until >= $2)`,
		id, s.now()).Scan(&revoked)
	if err != nil {
		return false, fmt.Errorf("pgstore: is revoked: %w", err)
	}
	return revoked, nil
}

// RevocationsSince implements [security.RevocationLog].
func (s *Store) RevocationsSince(ctx context.Context, cursor int64, now time.Time) ([]security.Revocation, int64, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT id, until, seq FROM warden_revocations
		WHERE seq > $1 AND until >= $2
		ORDER BY seq`, cursor, now)
	if err != nil {
		return nil, cursor, fmt.Errorf("pgstore: revocations since %d: %w", cursor, err)
	}
	defer rows.Close()
	var out []security.Revocation
	last := cursor
	for rows.Next() {
		var r security.Revocation
		if err := rows.Scan(&r.ID, &r.Until, &last); err != nil {
			return nil, cursor, fmt.Errorf("pgstore: revocations since %d: %w", cursor, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, cursor, fmt.Errorf("pgstore: revocations since %d: %w", cursor, err)
	}
	return out, last, nil
}

// WatchRevocations implements [security.RevocationWatcher] with LISTEN
// on a connection of its own, outside the pool. It calls changed(true)
// once it listens, and changed(false) on each notification. It returns
// when that connection fails or cannot be made, when ctx ends, or when the
// Store is closed; the caller ([security.RevocationCache] does) calls it
// again after a backoff, and polls meanwhile: notifications are at most
// once, and none arrive while no one listens.
func (s *Store) WatchRevocations(ctx context.Context, changed func(resync bool)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(s.closed, cancel)()
	conn, err := s.listen(ctx)
	if err != nil {
		return s.watchErr(ctx, err)
	}
	defer func() {
		closeCtx, stop := context.WithTimeout(context.Background(), time.Second)
		defer stop()
		_ = conn.Close(closeCtx) // best effort: pgx drops the connection even when its goodbye fails
	}()
	changed(true)
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return s.watchErr(ctx, err)
		}
		changed(false)
	}
}

// listen opens the watch's connection and listens on it.
func (s *Store) listen(ctx context.Context) (*pgx.Conn, error) {
	cfg := s.cfg.ConnConfig.Copy()
	cfg.RuntimeParams["application_name"] = watchApplicationName
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, `LISTEN `+revocationChannel); err != nil {
		_ = conn.Close(context.Background()) // LISTEN's error is the one to report
		return nil, err
	}
	return conn, nil
}

// watchErr says why a watch ended.
func (s *Store) watchErr(ctx context.Context, err error) error {
	switch {
	case s.closed.Err() != nil:
		return errors.New("pgstore: watch revocations: store closed")
	case ctx.Err() != nil:
		return ctx.Err()
	}
	return fmt.Errorf("pgstore: watch revocations: %w", err)
}
