package api

import (
	"os"
	"testing"

	"github.com/flowgate/flowgate/internal/knowledge/extract"
)

// TestMain serves the extraction child processes that reading attached PDFs starts: they
// re-execute this test binary.
func TestMain(m *testing.M) {
	if extract.IsChild() {
		os.Exit(extract.ServeChild())
	}
	os.Exit(m.Run())
}
