package cli

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaves goroutines behind (an agent,
// a watcher, a file channel).
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
