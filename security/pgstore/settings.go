package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// ErrNoSetting is returned by [Store.LookupSetting] for a setting that
// was never stored.
var ErrNoSetting = errors.New("pgstore: no such setting")

// Setting returns the value stored under name. When there is none, it
// stores the one that generate makes; of instances racing to do so, the
// first to commit wins and all of them return its value. generate is not
// called when the setting exists. Values such as a JWT secret are never
// put in errors.
func (s *Store) Setting(ctx context.Context, name string, generate func() ([]byte, error)) ([]byte, error) {
	v, err := s.LookupSetting(ctx, name)
	if !errors.Is(err, ErrNoSetting) {
		return v, err
	}
	if v, err = generate(); err != nil {
		return nil, fmt.Errorf("pgstore: setting %s: %w", name, err)
	}
	if v == nil {
		v = []byte{} // the column is NOT NULL
	}
	if _, err := s.pool.Exec(ctx,
		`INSERT INTO warden_settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, name, v); err != nil {
		return nil, fmt.Errorf("pgstore: setting %s: %w", name, err)
	}
	// A statement of its own, so that its snapshot sees the winner even
	// when the INSERT lost to a transaction that committed after it began.
	return s.LookupSetting(ctx, name)
}

// LookupSetting returns the value stored under name, or [ErrNoSetting].
func (s *Store) LookupSetting(ctx context.Context, name string) ([]byte, error) {
	var v []byte
	err := s.pool.QueryRow(ctx, `SELECT value FROM warden_settings WHERE name = $1`, name).Scan(&v)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, ErrNoSetting
	case err != nil:
		return nil, fmt.Errorf("pgstore: setting %s: %w", name, err)
	}
	return v, nil
}

// PutSetting stores value under name, replacing what was there: for what
// the last writer should decide, such as where a server takes its secret
// from. Settings that instances must agree on use [Store.Setting].
func (s *Store) PutSetting(ctx context.Context, name string, value []byte) error {
	if value == nil {
		value = []byte{}
	}
	_, err := s.pool.Exec(ctx,
		`INSERT INTO warden_settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value)
	if err != nil {
		return fmt.Errorf("pgstore: setting %s: %w", name, err)
	}
	return nil
}
