package sqlitestore_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wardenrpc/warden/security/sqlitestore"
)

var farFuture = time.Now().Add(24 * time.Hour)

// TestOpenErrors pins the messages that replace SQLite's "out of memory
// (14)" for files that cannot be opened.
func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	must(t, os.WriteFile(file, []byte("x"), 0o600))
	for _, tc := range []struct {
		name, path, want string
		notExist         bool
	}{
		{"missing directory", filepath.Join(dir, "nope", "w.db"),
			"cannot open the database file: directory " + filepath.Join(dir, "nope") + " does not exist: create it first", true},
		{"directory", dir,
			"cannot open the database file: " + dir + " is a directory: give the path of a file", false},
		{"file as directory", filepath.Join(file, "w.db"),
			"cannot open the database file: " + file + " is not a directory", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := sqlitestore.Open(context.Background(), tc.path)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if want := "open " + tc.path + ": " + tc.want; err.Error() != want {
				t.Errorf("error = %q\nwant    %q", err, want)
			}
			if strings.Contains(err.Error(), "out of memory") {
				t.Errorf("error %q still says out of memory", err)
			}
			if got := errors.Is(err, fs.ErrNotExist); got != tc.notExist {
				t.Errorf("errors.Is(err, fs.ErrNotExist) = %v, want %v", got, tc.notExist)
			}
		})
	}
}

func TestOpenReadOnlyDirectory(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root may write to any directory")
	}
	dir := t.TempDir()
	must(t, os.Chmod(dir, 0o555))
	t.Cleanup(func() { must(t, os.Chmod(dir, 0o755)) }) // or TempDir cannot remove it
	path := filepath.Join(dir, "w.db")
	s, err := sqlitestore.Open(context.Background(), path)
	if err == nil {
		s.Close()
		t.Fatal("Open in a read-only directory succeeded")
	}
	want := "open " + path + ": cannot open the database file: the file does not exist, and this program may not create it in directory " + dir + ": check its permissions"
	if err.Error() != want {
		t.Errorf("error = %q\nwant    %q", err, want)
	}
}

func TestOpenMustExist(t *testing.T) {
	path := filepath.Join(t.TempDir(), "w.db")
	s, err := sqlitestore.Open(context.Background(), path, sqlitestore.WithMustExist())
	if !errors.Is(err, fs.ErrNotExist) {
		if s != nil {
			s.Close()
		}
		t.Fatalf("Open(WithMustExist) of a missing file = %v; want fs.ErrNotExist", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open(WithMustExist) created %s", path)
	}
	open(t, path).Close()
	open(t, path, sqlitestore.WithMustExist())
}

func TestOpenOptions(t *testing.T) {
	ctx := context.Background()
	for _, opts := range [][]sqlitestore.Option{
		{sqlitestore.WithReaders(0)},
		{sqlitestore.WithClock(nil)},
		{sqlitestore.WithBusyTimeout(-time.Second)},
	} {
		if s, err := sqlitestore.Open(ctx, sqlitestore.Memory, opts...); err == nil {
			s.Close()
			t.Errorf("Open with a bad option succeeded")
		}
	}
	if s, err := sqlitestore.Open(ctx, ""); err == nil {
		s.Close()
		t.Error("Open of an empty path succeeded")
	}
}

// TestReaderRefusesWrites checks that the reader pool is query_only, so
// that an application cannot write outside the writer by mistake.
func TestReaderRefusesWrites(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "w.db"))
	if _, err := s.Reader().Exec(`DELETE FROM warden_revocations`); err == nil {
		t.Error("a write through Reader succeeded")
	}
}

// TestPathWithURICharacters opens a file whose name SQLite would read as
// a URI's query or fragment if it were not escaped.
func TestPathWithURICharacters(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a?b#c%d.db")
	s := open(t, path)
	must(t, s.Revoke(context.Background(), "id", farFuture))
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the database is not at %s: %v", path, err)
	}
}
