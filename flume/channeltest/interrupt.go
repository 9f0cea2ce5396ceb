package channeltest

import (
	"testing"
	"time"

	"ampsflume/flume"
)

// Interrupt checks the flume.TakeInterrupter contract on ch, a started
// channel configured with a keep-alive far longer than the suite's wait
// limit (an hour, say), so that a take that is not interrupted fails the
// test instead of passing after its keep-alive:
//   - a Take waiting for an event returns (nil, nil) once InterruptTakes is
//     called;
//   - a transaction begun before the call is still handed events already
//     queued;
//   - a transaction begun after the call waits for events as usual.
//
// The channel must be empty.
func Interrupt(t *testing.T, ch flume.Channel) {
	t.Helper()
	ti, ok := ch.(flume.TakeInterrupter)
	if !ok {
		t.Fatalf("%T does not implement flume.TakeInterrupter", ch)
	}

	waiting := begin(t, ch)
	queued := begin(t, ch)
	type result struct {
		e   *flume.Event
		err error
	}
	done := make(chan result, 1)
	go func() {
		e, err := waiting.Take()
		done <- result{e, err}
	}()
	ti.InterruptTakes()
	select {
	case r := <-done:
		if r.e != nil || r.err != nil {
			t.Fatalf("interrupted Take = (%v, %v), want (nil, nil)", r.e, r.err)
		}
	case <-time.After(waitLimit):
		t.Fatal("Take kept waiting for its keep-alive after InterruptTakes")
	}
	if err := waiting.Commit(); err != nil {
		t.Fatalf("Commit of the interrupted transaction: %v", err)
	}
	mustClose(t, waiting)

	putCommit(t, ch, "queued")
	equal(t, "takes of a transaction begun before the interrupt", takeN(t, queued, 1), []string{"queued"})
	if err := queued.Commit(); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	mustClose(t, queued)

	// A new transaction is not interrupted: its take waits for the event
	// committed after it started waiting.
	later := begin(t, ch)
	go func() {
		e, err := later.Take()
		done <- result{e, err}
	}()
	putCommit(t, ch, "later")
	select {
	case r := <-done:
		if r.err != nil || r.e == nil || string(r.e.Body) != "later" {
			t.Fatalf("Take of a transaction begun after the interrupt = (%v, %v), want the event %q", r.e, r.err, "later")
		}
	case <-time.After(waitLimit):
		t.Fatal("Take of a transaction begun after the interrupt did not see the committed event")
	}
	if err := later.Commit(); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	mustClose(t, later)
}
