package activities_test

import (
	"os"
	"testing"

	"github.com/flowgate/flowgate/internal/knowledge/extract"
)

// TestMain serves the extraction child processes that chains reading uploaded PDFs start: they
// re-execute this test binary.
func TestMain(m *testing.M) {
	if extract.IsChild() {
		os.Exit(extract.ServeChild())
	}
	os.Exit(m.Run())
}
