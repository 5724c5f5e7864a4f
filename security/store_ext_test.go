package security_test

import (
	"testing"

	"github.com/wardenrpc/warden/security"
	"github.com/wardenrpc/warden/security/storetest"
)

func TestMemoryStoreConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) (a, b storetest.Store) {
		s := security.NewMemoryStore()
		return s, s
	})
}
