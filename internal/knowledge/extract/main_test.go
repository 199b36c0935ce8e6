package extract

import (
	"os"
	"testing"
)

// TestMain serves the child processes that tests of isolated parsers start:
// they re-execute this test binary.
func TestMain(m *testing.M) {
	if IsChild() {
		os.Exit(ServeChild())
	}
	os.Exit(m.Run())
}
