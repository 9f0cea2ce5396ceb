package channeltest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ampsflume/flume"
)

// Factory builds a configured, not yet started channel with the given
// capacity and transactionCapacity and a short keep-alive.
type Factory func(t *testing.T, capacity, txCapacity int) flume.Channel

// waitLimit bounds every wait of the suite so that a broken channel fails the
// test instead of hanging it. It is not a timing assertion: a correct channel
// answers in keep-alive time, far below it.
const waitLimit = 20 * time.Second

// Run runs the conformance suite against channels built by newChannel.
func Run(t *testing.T, newChannel Factory) {
	cases := []struct {
		name string
		fn   func(t *testing.T, newChannel Factory)
	}{
		{"PutTakeCommit", testPutTakeCommit},
		{"PutsInvisibleUntilCommit", testPutsInvisibleUntilCommit},
		{"RollbackDiscardsPuts", testRollbackDiscardsPuts},
		{"RollbackReturnsTakesInOrder", testRollbackReturnsTakes},
		{"RollbackAfterPartialTake", testRollbackAfterPartialTake},
		{"MixedPutAndTake", testMixedPutAndTake},
		{"Capacity", testCapacity},
		{"CapacityFreedByTakes", testCapacityFreedByTakes},
		{"TransactionCapacity", testTransactionCapacity},
		{"FIFO", testFIFO},
		{"ProducerOrderWithOneConsumer", testProducerOrder},
		{"ConcurrentExactlyOnce", testConcurrent},
		{"TakeWaitsForCommit", testTakeWaitsForCommit},
		{"TakeEmptyAfterKeepAlive", testTakeEmpty},
		{"TransactionStates", testTransactionStates},
		{"CloseOpenTransactionRollsBack", testCloseOpen},
		{"Stop", testStop},
		{"HeadersPreserved", testHeaders},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.fn(t, newChannel) })
	}
}

// start builds and starts a channel that is stopped when the test ends.
func start(t *testing.T, newChannel Factory, capacity, txCapacity int) flume.Channel {
	t.Helper()
	ch := newChannel(t, capacity, txCapacity)
	if err := ch.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := ch.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return ch
}

func ev(body string) *flume.Event { return flume.NewEvent([]byte(body), nil) }

func bodies(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = prefix + strconv.Itoa(i)
	}
	return out
}

func begin(t *testing.T, ch flume.Channel) flume.Transaction {
	t.Helper()
	tx := ch.NewTransaction()
	if err := tx.Begin(); err != nil {
		t.Fatalf("Begin: %v", err)
	}
	return tx
}

// putCommit puts the bodies in one transaction and commits it.
func putCommit(t *testing.T, ch flume.Channel, bs ...string) {
	t.Helper()
	tx := begin(t, ch)
	for _, b := range bs {
		if err := tx.Put(ev(b)); err != nil {
			t.Fatalf("Put(%q): %v", b, err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if err := tx.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// takeN takes exactly n events from tx, waiting across keep-alives for each,
// and returns their bodies.
func takeN(t *testing.T, tx flume.Transaction, n int) []string {
	t.Helper()
	out := make([]string, 0, n)
	deadline := time.Now().Add(waitLimit)
	for len(out) < n {
		e, err := tx.Take()
		if err != nil {
			t.Fatalf("Take #%d: %v", len(out), err)
		}
		if e == nil {
			if time.Now().After(deadline) {
				t.Fatalf("Take: got %d of %d events before giving up", len(out), n)
			}
			continue
		}
		out = append(out, string(e.Body))
	}
	return out
}

// drain takes and commits everything in the channel, one event per take,
// until a take returns nothing.
func drain(t *testing.T, ch flume.Channel) []string {
	t.Helper()
	var out []string
	for {
		tx := begin(t, ch)
		e, err := tx.Take()
		if err != nil {
			t.Fatalf("Take: %v", err)
		}
		if e == nil {
			if err := tx.Commit(); err != nil {
				t.Fatalf("Commit: %v", err)
			}
			mustClose(t, tx)
			return out
		}
		out = append(out, string(e.Body))
		if err := tx.Commit(); err != nil {
			t.Fatalf("Commit: %v", err)
		}
		mustClose(t, tx)
	}
}

func mustClose(t *testing.T, tx flume.Transaction) {
	t.Helper()
	if err := tx.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func equal(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, ",") != strings.Join(want, ",") || len(got) != len(want) {
		t.Fatalf("%s: got %q, want %q", what, got, want)
	}
}

func wantSize(t *testing.T, ch flume.Channel, n int) {
	t.Helper()
	if got := ch.Size(); got != n {
		t.Fatalf("Size() = %d, want %d", got, n)
	}
}

func testPutTakeCommit(t *testing.T, nc Factory) {
	ch := start(t, nc, 10, 10)
	if ch.Capacity() != 10 || ch.TransactionCapacity() != 10 {
		t.Fatalf("Capacity/TransactionCapacity = %d/%d, want 10/10", ch.Capacity(), ch.TransactionCapacity())
	}
	putCommit(t, ch, "a", "b", "c")
	wantSize(t, ch, 3)
	tx := begin(t, ch)
	equal(t, "taken", takeN(t, tx, 3), []string{"a", "b", "c"})
	if err := tx.Commit(); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	mustClose(t, tx)
	wantSize(t, ch, 0)
	equal(t, "left", drain(t, ch), nil)
}

func testPutsInvisibleUntilCommit(t *testing.T, nc Factory) {
	ch := start(t, nc, 10, 10)
	ptx := begin(t, ch)
	if err := ptx.Put(ev("x")); err != nil {
		t.Fatalf("Put: %v", err)
	}
	wantSize(t, ch, 0)
	ttx := begin(t, ch)
	if e, err := ttx.Take(); err != nil || e != nil {
		t.Fatalf("Take of uncommitted put = (%v, %v), want (nil, nil)", e, err)
	}
	if err := ttx.Commit(); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	mustClose(t, ttx)
	if err := ptx.Commit(); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	mustClose(t, ptx)
	wantSize(t, ch, 1)
	equal(t, "drained", drain(t, ch), []string{"x"})
}

func testRollbackDiscardsPuts(t *testing.T, nc Factory) {
	ch := start(t, nc, 10, 10)
	putCommit(t, ch, "keep")
	tx := begin(t, ch)
	for _, b := range []string{"p1", "p2", "p3"} {
		if err := tx.Put(ev(b)); err != nil {
			t.Fatalf("Put: %v", err)
		}
	}
	if err := tx.Rollback(); err != nil {
		t.Fatalf("Rollback: %v", err)
	}
	mustClose(t, tx)
	wantSize(t, ch, 1)
	equal(t, "drained", drain(t, ch), []string{"keep"})
}

func testRollbackReturnsTakes(t *testing.T, nc Factory) {
	ch := start(t, nc, 10, 10)
	putCommit(t, ch, bodies("e", 5)...)
	tx := begin(t, ch)
	equal(t, "taken", takeN(t, tx, 5), bodies("e", 5))
	if err := tx.Rollback(); err != nil {
		t.Fatalf("Rollback: %v", err)
	}
	mustClose(t, tx)
	wantSize(t, ch, 5)
	equal(t, "after rollback", drain(t, ch), bodies("e", 5))
}

func testRollbackAfterPartialTake(t *testing.T, nc Factory) {
	ch := start(t, nc, 10, 10)
	putCommit(t, ch, "a", "b", "c", "d", "e")
	tx := begin(t, ch)
	equal(t, "taken", takeN(t, tx, 2), []string{"a", "b"})
	if err := tx.Rollback(); err != nil {
		t.Fatalf("Rollback: %v", err)
	}
	mustClose(t, tx)
	// Events put after the rollback go behind the returned ones.
	putCommit(t, ch, "f")
	equal(t, "after rollback", drain(t, ch), []string{"a", "b", "c", "d", "e", "f"})
}

func testMixedPutAndTake(t *testing.T, nc Factory) {
	ch := start(t, nc, 10, 10)
	putCommit(t, ch, "a", "b")
	tx := begin(t, ch)
	equal(t, "taken", takeN(t, tx, 1), []string{"a"})
	if err := tx.Put(ev("c")); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	mustClose(t, tx)
	equal(t, "drained", drain(t, ch), []string{"b", "c"})

	putCommit(t, ch, "x", "y")
	tx = begin(t, ch)
	equal(t, "taken", takeN(t, tx, 1), []string{"x"})
	if err := tx.Put(ev("z")); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatalf("Rollback: %v", err)
	}
	mustClose(t, tx)
	equal(t, "after rollback", drain(t, ch), []string{"x", "y"})
}

// putAll stages the bodies and commits; it returns the first error from a
// Put or from Commit. Either may report a full channel.
func putAll(t *testing.T, ch flume.Channel, bs ...string) error {
	t.Helper()
	tx := begin(t, ch)
	defer tx.Close()
	for _, b := range bs {
		if err := tx.Put(ev(b)); err != nil {
			if rerr := tx.Rollback(); rerr != nil {
				t.Fatalf("Rollback after failed Put: %v", rerr)
			}
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		// A failed commit has already rolled back; a second rollback must
		// not make things worse.
		_ = tx.Rollback()
		return err
	}
	return nil
}

func testCapacity(t *testing.T, nc Factory) {
	ch := start(t, nc, 5, 5)
	putCommit(t, ch, "a", "b", "c")
	// Three more do not fit: the whole transaction fails, nothing is kept.
	err := putAll(t, ch, "x1", "x2", "x3")
	if !errors.Is(err, flume.ErrChannelFull) {
		t.Fatalf("commit into a full channel: err = %v, want ErrChannelFull", err)
	}
	var ce *flume.ChannelError
	if !errors.As(err, &ce) {
		t.Fatalf("commit into a full channel: err %T is not a *flume.ChannelError", err)
	}
	wantSize(t, ch, 3)
	// Two still fit exactly.
	if err := putAll(t, ch, "d", "e"); err != nil {
		t.Fatalf("filling to capacity: %v", err)
	}
	wantSize(t, ch, 5)
	if err := putAll(t, ch, "f"); !errors.Is(err, flume.ErrChannelFull) {
		t.Fatalf("one event into a full channel: err = %v, want ErrChannelFull", err)
	}
	equal(t, "drained", drain(t, ch), []string{"a", "b", "c", "d", "e"})
}

func testCapacityFreedByTakes(t *testing.T, nc Factory) {
	ch := start(t, nc, 3, 3)
	putCommit(t, ch, "a", "b", "c")
	// Taken but not committed events still hold their space, because a
	// rollback must be able to return them.
	tx := begin(t, ch)
	equal(t, "taken", takeN(t, tx, 2), []string{"a", "b"})
	if err := putAll(t, ch, "d"); !errors.Is(err, flume.ErrChannelFull) {
		t.Fatalf("put while takes are in flight: err = %v, want ErrChannelFull", err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	mustClose(t, tx)
	if err := putAll(t, ch, "d", "e"); err != nil {
		t.Fatalf("put after takes committed: %v", err)
	}
	equal(t, "drained", drain(t, ch), []string{"c", "d", "e"})
}

func testTransactionCapacity(t *testing.T, nc Factory) {
	ch := start(t, nc, 10, 3)
	tx := begin(t, ch)
	for _, b := range []string{"a", "b", "c"} {
		if err := tx.Put(ev(b)); err != nil {
			t.Fatalf("Put(%s): %v", b, err)
		}
	}
	if err := tx.Put(ev("d")); !errors.Is(err, flume.ErrTransactionFull) {
		t.Fatalf("4th Put with transactionCapacity 3: err = %v, want ErrTransactionFull", err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatalf("Commit of the 3 staged events: %v", err)
	}
	mustClose(t, tx)
	putCommit(t, ch, "d", "e")

	tx = begin(t, ch)
	equal(t, "taken", takeN(t, tx, 3), []string{"a", "b", "c"})
	if _, err := tx.Take(); !errors.Is(err, flume.ErrTransactionFull) {
		t.Fatalf("4th Take with transactionCapacity 3: err = %v, want ErrTransactionFull", err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatalf("Rollback: %v", err)
	}
	mustClose(t, tx)
	equal(t, "drained", drain(t, ch), []string{"a", "b", "c", "d", "e"})
}

func testFIFO(t *testing.T, nc Factory) {
	ch := start(t, nc, 100, 10)
	want := bodies("f", 60)
	for i := 0; i < len(want); i += 7 {
		putCommit(t, ch, want[i:min(i+7, len(want))]...)
	}
	var got []string
	for len(got) < len(want) {
		tx := begin(t, ch)
		n := min(10, len(want)-len(got))
		got = append(got, takeN(t, tx, n)...)
		if err := tx.Commit(); err != nil {
			t.Fatalf("Commit: %v", err)
		}
		mustClose(t, tx)
	}
	equal(t, "order", got, want)
}

// producerEvent names the producer and its sequence number in the body.
func producerEvent(p, i int) string { return fmt.Sprintf("p%d-%d", p, i) }

func parseProducerEvent(s string) (p, i int, err error) {
	ps, is, ok := strings.Cut(s, "-")
	if !ok || !strings.HasPrefix(ps, "p") {
		return 0, 0, fmt.Errorf("unexpected body %q", s)
	}
	if p, err = strconv.Atoi(ps[1:]); err != nil {
		return 0, 0, err
	}
	i, err = strconv.Atoi(is)
	return p, i, err
}

// produce runs producers goroutines, each committing perProducer events in
// batches of batch, retrying a batch that found the channel full.
func produce(t *testing.T, ch flume.Channel, producers, perProducer, batch int, wg *sync.WaitGroup, errs chan<- error) {
	for p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			deadline := time.Now().Add(waitLimit)
			for i := 0; i < perProducer; {
				n := min(batch, perProducer-i)
				tx := ch.NewTransaction()
				err := tx.Begin()
				for j := 0; err == nil && j < n; j++ {
					err = tx.Put(ev(producerEvent(p, i+j)))
				}
				if err == nil {
					err = tx.Commit()
				} else {
					_ = tx.Rollback()
				}
				_ = tx.Close()
				switch {
				case err == nil:
					i += n
				case errors.Is(err, flume.ErrChannelFull) && time.Now().Before(deadline):
				default:
					errs <- fmt.Errorf("producer %d at %d: %w", p, i, err)
					return
				}
			}
		}()
	}
}

func testProducerOrder(t *testing.T, nc Factory) {
	const producers, per = 3, 200
	ch := start(t, nc, 50, 10)
	var wg sync.WaitGroup
	errs := make(chan error, producers)
	produce(t, ch, producers, per, 7, &wg, errs)
	next := make([]int, producers)
	deadline := time.Now().Add(waitLimit)
	for got := 0; got < producers*per; {
		if time.Now().After(deadline) {
			t.Fatalf("consumed %d of %d events before giving up", got, producers*per)
		}
		select {
		case err := <-errs:
			t.Fatal(err)
		default:
		}
		tx := begin(t, ch)
		for range 10 {
			e, err := tx.Take()
			if err != nil {
				t.Fatalf("Take: %v", err)
			}
			if e == nil {
				break
			}
			p, i, err := parseProducerEvent(string(e.Body))
			if err != nil {
				t.Fatal(err)
			}
			if i != next[p] {
				t.Fatalf("producer %d: got event %d, want %d", p, i, next[p])
			}
			next[p]++
			got++
		}
		if err := tx.Commit(); err != nil {
			t.Fatalf("Commit: %v", err)
		}
		mustClose(t, tx)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func testConcurrent(t *testing.T, nc Factory) {
	const producers, consumers, per = 4, 4, 500
	const total = producers * per
	ch := start(t, nc, 64, 16)
	var wg sync.WaitGroup
	errs := make(chan error, producers+consumers)
	produce(t, ch, producers, per, 9, &wg, errs)

	var seen sync.Map
	var consumed atomic.Int64
	var dups atomic.Int64
	var cwg sync.WaitGroup
	for c := range consumers {
		cwg.Add(1)
		go func() {
			defer cwg.Done()
			deadline := time.Now().Add(waitLimit)
			for round := 0; consumed.Load() < total; round++ {
				if time.Now().After(deadline) {
					errs <- fmt.Errorf("consumer %d: gave up at %d of %d", c, consumed.Load(), total)
					return
				}
				tx := ch.NewTransaction()
				if err := tx.Begin(); err != nil {
					errs <- err
					return
				}
				var batch []string
				for range 16 {
					e, err := tx.Take()
					if err != nil {
						errs <- fmt.Errorf("consumer %d: Take: %w", c, err)
						return
					}
					if e == nil {
						break
					}
					batch = append(batch, string(e.Body))
				}
				// Every third round of each consumer rolls back, to
				// exercise returns to the head under contention.
				if round%3 == 2 {
					if err := tx.Rollback(); err != nil {
						errs <- err
						return
					}
					_ = tx.Close()
					continue
				}
				if err := tx.Commit(); err != nil {
					errs <- fmt.Errorf("consumer %d: Commit: %w", c, err)
					return
				}
				_ = tx.Close()
				for _, b := range batch {
					if _, dup := seen.LoadOrStore(b, true); dup {
						dups.Add(1)
					}
				}
				consumed.Add(int64(len(batch)))
			}
		}()
	}
	wg.Wait()
	cwg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if d := dups.Load(); d != 0 {
		t.Fatalf("%d events delivered more than once", d)
	}
	for p := range producers {
		for i := range per {
			if _, ok := seen.Load(producerEvent(p, i)); !ok {
				t.Fatalf("event %s never delivered", producerEvent(p, i))
			}
		}
	}
	if n := consumed.Load(); n != total {
		t.Fatalf("consumed %d events, want %d", n, total)
	}
	wantSize(t, ch, 0)
}

func testTakeWaitsForCommit(t *testing.T, nc Factory) {
	ch := start(t, nc, 10, 10)
	got := make(chan string, 1)
	errc := make(chan error, 1)
	go func() {
		tx := ch.NewTransaction()
		if err := tx.Begin(); err != nil {
			errc <- err
			return
		}
		defer tx.Close()
		deadline := time.Now().Add(waitLimit)
		for time.Now().Before(deadline) {
			e, err := tx.Take()
			if err != nil {
				errc <- err
				return
			}
			if e != nil {
				if err := tx.Commit(); err != nil {
					errc <- err
					return
				}
				got <- string(e.Body)
				return
			}
		}
		errc <- errors.New("taker gave up")
	}()
	putCommit(t, ch, "late")
	select {
	case b := <-got:
		if b != "late" {
			t.Fatalf("taker got %q, want %q", b, "late")
		}
	case err := <-errc:
		t.Fatal(err)
	}
}

func testTakeEmpty(t *testing.T, nc Factory) {
	ch := start(t, nc, 10, 10)
	tx := begin(t, ch)
	done := make(chan struct{})
	var e *flume.Event
	var err error
	go func() {
		defer close(done)
		e, err = tx.Take()
	}()
	select {
	case <-done:
	case <-time.After(waitLimit):
		t.Fatal("Take on an empty channel did not return after keep-alive")
	}
	if e != nil || err != nil {
		t.Fatalf("Take on an empty channel = (%v, %v), want (nil, nil)", e, err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatalf("Commit of an empty transaction: %v", err)
	}
	mustClose(t, tx)
}

func testTransactionStates(t *testing.T, nc Factory) {
	ch := start(t, nc, 10, 10)
	tx := ch.NewTransaction()
	if err := tx.Put(ev("early")); err == nil {
		t.Fatal("Put before Begin succeeded")
	}
	if _, err := tx.Take(); err == nil {
		t.Fatal("Take before Begin succeeded")
	}
	if err := tx.Commit(); err == nil {
		t.Fatal("Commit before Begin succeeded")
	}
	if err := tx.Begin(); err != nil {
		t.Fatalf("Begin: %v", err)
	}
	if err := tx.Begin(); err == nil {
		t.Fatal("second Begin succeeded")
	}
	if err := tx.Put(ev("a")); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if err := tx.Put(ev("late")); err == nil {
		t.Fatal("Put after Commit succeeded")
	}
	if err := tx.Commit(); err == nil {
		t.Fatal("second Commit succeeded")
	}
	mustClose(t, tx)
	wantSize(t, ch, 1)
	equal(t, "drained", drain(t, ch), []string{"a"})
}

func testCloseOpen(t *testing.T, nc Factory) {
	ch := start(t, nc, 10, 10)
	putCommit(t, ch, "a", "b")
	tx := begin(t, ch)
	equal(t, "taken", takeN(t, tx, 1), []string{"a"})
	if err := tx.Put(ev("c")); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if err := tx.Close(); err == nil {
		t.Fatal("Close of an open transaction returned no error")
	}
	// The close rolled back: "a" is back at the head, "c" is gone.
	equal(t, "drained", drain(t, ch), []string{"a", "b"})

	// Closing a completed transaction twice is harmless.
	tx = begin(t, ch)
	if err := tx.Rollback(); err != nil {
		t.Fatalf("Rollback: %v", err)
	}
	mustClose(t, tx)
	if err := tx.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func testStop(t *testing.T, nc Factory) {
	ch := nc(t, 10, 10)
	if err := ch.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	putCommit(t, ch, "a")

	// A taker waiting on an empty queue is released by Stop.
	ch2 := nc(t, 10, 10)
	if err := ch2.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	waiting := make(chan error, 1)
	go func() {
		tx := ch2.NewTransaction()
		if err := tx.Begin(); err != nil {
			waiting <- err
			return
		}
		defer tx.Close()
		for {
			e, err := tx.Take()
			if err != nil || e != nil {
				waiting <- err
				return
			}
		}
	}()

	open := begin(t, ch)
	if err := open.Put(ev("b")); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if err := ch.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := ch2.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	select {
	case err := <-waiting:
		if !errors.Is(err, flume.ErrChannelClosed) {
			t.Fatalf("Take blocked across Stop returned %v, want ErrChannelClosed", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("Take blocked across Stop never returned")
	}

	if err := open.Commit(); !errors.Is(err, flume.ErrChannelClosed) {
		t.Fatalf("Commit after Stop: err = %v, want ErrChannelClosed", err)
	}
	_ = open.Close()
	tx := ch.NewTransaction()
	err := tx.Begin()
	if err == nil {
		err = tx.Put(ev("c"))
	}
	if !errors.Is(err, flume.ErrChannelClosed) {
		t.Fatalf("Begin/Put after Stop: err = %v, want ErrChannelClosed", err)
	}
	_ = tx.Rollback()
	_ = tx.Close()
	if err := ch.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
}

func testHeaders(t *testing.T, nc Factory) {
	ch := start(t, nc, 10, 10)
	tx := begin(t, ch)
	in := flume.NewEvent([]byte("body"), map[string]string{"k": "v", "empty": ""})
	if err := tx.Put(in); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if err := tx.Put(flume.NewEvent(nil, nil)); err != nil {
		t.Fatalf("Put of an empty event: %v", err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	mustClose(t, tx)
	tx = begin(t, ch)
	defer tx.Close()
	e, err := tx.Take()
	if err != nil || e == nil {
		t.Fatalf("Take = (%v, %v)", e, err)
	}
	if string(e.Body) != "body" || len(e.Headers) != 2 || e.Headers["k"] != "v" || e.Headers["empty"] != "" {
		t.Fatalf("event changed in the channel: %+v", e)
	}
	e, err = tx.Take()
	if err != nil || e == nil {
		t.Fatalf("Take = (%v, %v)", e, err)
	}
	if len(e.Body) != 0 || e.Headers == nil || len(e.Headers) != 0 {
		t.Fatalf("empty event changed in the channel: %+v", e)
	}
	if err := tx.Commit(); err != nil {
		t.Fatalf("Commit: %v", err)
	}
}
