package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// ErrNoSetting is what [Store.LookupSetting] returns for a setting that
// has never been stored.
var ErrNoSetting = errors.New("sqlitestore: no such setting")

// Setting returns the value stored under name. When there is none, it
// calls generate and stores what it returns, unless another Store, in
// this process or another, stored a value first: the first writer wins,
// and every caller gets the value that won. It is how servers that share
// a file agree on a generated secret.
func (s *Store) Setting(ctx context.Context, name string, generate func() ([]byte, error)) ([]byte, error) {
	switch v, err := s.LookupSetting(ctx, name); {
	case err == nil:
		return v, nil
	case !errors.Is(err, ErrNoSetting):
		return nil, err
	}
	// Generate outside the transaction, which holds the write lock.
	v, err := generate()
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: generating setting %q: %w", name, err)
	}
	if v == nil {
		v = []byte{}
	}
	err = s.Write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.StmtContext(ctx, s.insertSetting).ExecContext(ctx, name, v); err != nil {
			return err
		}
		return tx.StmtContext(ctx, s.setting).QueryRowContext(ctx, name).Scan(&v)
	})
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: setting %q: %w", name, err)
	}
	return v, nil
}

// LookupSetting returns the value stored under name, or [ErrNoSetting].
// It never stores anything.
func (s *Store) LookupSetting(ctx context.Context, name string) ([]byte, error) {
	var v []byte
	switch err := s.lookupSetting.QueryRowContext(ctx, name).Scan(&v); {
	case errors.Is(err, sql.ErrNoRows):
		return nil, ErrNoSetting
	case err != nil:
		return nil, fmt.Errorf("sqlitestore: setting %q: %w", name, err)
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
	err := s.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx,
			`INSERT INTO warden_settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlitestore: setting %q: %w", name, err)
	}
	return nil
}
