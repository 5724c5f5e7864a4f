package sqlitestore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// openError explains err, from opening path. SQLite reports every reason
// it cannot open a file as SQLITE_CANTOPEN, which modernc.org/sqlite
// prints as "out of memory (14)"; the file system tells which one it was.
func openError(path string, err error) error {
	var se *sqlite.Error
	if !errors.As(err, &se) || se.Code()&0xff != sqlite3.SQLITE_CANTOPEN {
		return fmt.Errorf("open %s: %w", path, err)
	}
	e := &cantOpenError{path: path, err: se}
	e.reason, e.fsErr = cantOpenReason(path)
	return e
}

// cantOpenError is SQLITE_CANTOPEN with its reason. It wraps both
// SQLite's error and the file system's, so that errors.Is(err,
// fs.ErrNotExist) and the like hold.
type cantOpenError struct {
	path, reason string
	err, fsErr   error
}

func (e *cantOpenError) Error() string {
	return fmt.Sprintf("open %s: cannot open the database file: %s", e.path, e.reason)
}

func (e *cantOpenError) Unwrap() []error {
	if e.fsErr == nil {
		return []error{e.err}
	}
	return []error{e.err, e.fsErr}
}

// cantOpenReason tells why path could not be opened, with the file
// system's error when there is one.
func cantOpenReason(path string) (string, error) {
	fi, pathErr := os.Stat(path)
	switch {
	case pathErr == nil && fi.IsDir():
		return fmt.Sprintf("%s is a directory: give the path of a file", path), nil
	case pathErr == nil:
		return fmt.Sprintf("check that this program may read and write %s, and create files in %s (SQLite keeps its -wal and -shm files there)",
			path, filepath.Dir(path)), nil
	}
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Sprintf("directory %s does not exist: create it first", dir), err
	case err != nil:
		return err.Error(), err
	case !fi.IsDir():
		return fmt.Sprintf("%s is not a directory", dir), nil
	case errors.Is(pathErr, fs.ErrNotExist):
		return fmt.Sprintf("the file does not exist, and this program may not create it in directory %s: check its permissions", dir), pathErr
	}
	return pathErr.Error(), pathErr
}
