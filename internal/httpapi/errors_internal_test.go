package httpapi

import (
	"testing"

	"github.com/magflow/magflow"
)

// TestStatusMappingRoundTrips: every code of the error vocabulary maps to an
// HTTP status that maps back to the same code, so a problem huma writes
// itself carries the code MagFlow would have given it.
func TestStatusMappingRoundTrips(t *testing.T) {
	t.Parallel()
	for _, code := range []string{magflow.EConflict, magflow.EInternal, magflow.EInvalid, magflow.ENotFound, magflow.EUnauthorized,
		magflow.EForbidden, magflow.EUnavailable, magflow.ERateLimited, magflow.ENotImplemented} {
		if got := codeOf(statusOf(code)); got != code {
			t.Errorf("code %s -> status %d -> code %s", code, statusOf(code), got)
		}
	}
}
