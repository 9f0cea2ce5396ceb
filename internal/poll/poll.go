package poll

import (
	"fmt"
	"testing"
	"time"
)

// Interval is the pause between two checks.
const Interval = 10 * time.Millisecond

// Until calls fn until it returns nil. When total has passed first, it fails
// the test with fn's last error.
func Until(t testing.TB, total time.Duration, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(total)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(Interval)
	}
}

// Named prefixes fn's errors with what, so that the failure of a test that
// waits for several things says which one did not happen:
// poll.Until(t, d, poll.Named("replica caught up", fn)).
func Named(what string, fn func() error) func() error {
	return func() error {
		if err := fn(); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	}
}
