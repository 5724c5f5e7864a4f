package pgstore_test

import (
	"testing"

	"github.com/wardenrpc/warden/security/storetest"
)

// Two Stores on one database, as two server instances hold them.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (a, b storetest.Store) {
		url := pg.Database(t)
		return open(t, url), open(t, url)
	})
}
