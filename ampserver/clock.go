package ampserver

import "time"

// Clock is the server's source of time, injectable so that heartbeats,
// conflation and timestamps can be tested without waiting.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f in its own goroutine after d.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a pending AfterFunc call.
type Timer interface {
	// Stop prevents the call if it has not started; it reports whether it did.
	Stop() bool
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }
func (realClock) AfterFunc(d time.Duration, f func()) Timer {
	return time.AfterFunc(d, f)
}

// timestamp formats t as AMPS does: ISO-8601 basic form, microseconds, UTC.
func timestamp(t time.Time) string {
	return t.UTC().Format("20060102T150405.000000Z")
}
