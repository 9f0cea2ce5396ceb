package poll

import (
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
