package ampserver

import (
	"math/rand/v2"
	"net"
	"testing"
	"time"
)

func TestTimestampMatchesLayout(t *testing.T) {
	cases := []time.Time{
		time.Date(2026, 11, 27, 9, 5, 7, 123456789, time.UTC),
		time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),                    // beyond four digits: Format's answer
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),                       // before year 0: Format's answer
		time.Date(2026, 6, 1, 12, 0, 0, 500, time.FixedZone("x", 3600)), // converted to UTC
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		cases = append(cases, time.Unix(r.Int64N(1<<34), r.Int64N(1e9)))
	}
	for _, tm := range cases {
		if got, want := timestamp(tm), tm.UTC().Format(timestampLayout); got != want {
			t.Errorf("timestamp(%v) = %q, want %q", tm, got, want)
		}
	}
}

// A stampCache gives timestamp's answer for instants in any order, most of
// them within the same second as the one before.
func TestStampCacheMatchesTimestamp(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var c stampCache
	tm := time.Date(2026, 11, 27, 9, 5, 7, 0, time.UTC)
	for range 5000 {
		switch r.IntN(10) {
		case 0:
			tm = time.Unix(r.Int64N(1<<34), r.Int64N(1e9)) // anywhere
		case 1:
			tm = tm.Add(-time.Duration(r.Int64N(2e9))) // backwards, maybe across a second
		case 2:
			// the same instant again, as for publishes read together
		case 3:
			tm = tm.Add(time.Duration(r.Int64N(1000))) // maybe the same microsecond
		default:
			tm = tm.Add(time.Duration(r.Int64N(3e5))) // forwards, mostly the same second
		}
		if got, want := string(c.format(tm)), timestamp(tm); got != want {
			t.Fatalf("format(%v) = %q, want %q", tm, got, want)
		}
	}
	far := time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	if got, want := string(c.format(far)), timestamp(far); got != want {
		t.Fatalf("format(%v) = %q, want %q", far, got, want)
	}
}

func BenchmarkTimestamp(b *testing.B) {
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		_ = timestamp(now)
	}
}

// A wallClock says what time.Now says (the system clock is not set during
// the test): each reading lies between the time.Now readings around it,
// within a margin for the rounding of the two clocks, across resyncs, and
// readings never go backwards.
func TestWallClockFollowsTimeNow(t *testing.T) {
	var w wallClock
	var last time.Time
	const margin = time.Millisecond
	for i := range 2000 {
		if i%500 == 0 {
			w.base = w.base.Add(-wallResync) // as if the last resync were long ago
		}
		before := time.Now().Round(0) // wall clock only
		got := w.now()
		after := time.Now().Round(0)
		if g := got.Round(0); g.Before(before.Add(-margin)) || g.After(after.Add(margin)) {
			t.Fatalf("reading %d: %v, not within [%v, %v]", i, g, before, after)
		}
		if got.Before(last) {
			t.Fatalf("reading %d: %v before the previous %v", i, got, last)
		}
		last = got
	}
}

// A series of publish times never goes backwards, whatever the order of
// the read times it is given; a publish without one is stamped now.
func TestWallClockAtIsMonotonic(t *testing.T) {
	base := time.Now()
	var w wallClock
	reads := []time.Duration{5, 3, 7, 7, 1, 9}
	want := []time.Duration{5, 5, 7, 7, 7, 9}
	for i, r := range reads {
		if got := w.at(base.Add(r * time.Microsecond)); !got.Equal(base.Add(want[i] * time.Microsecond)) {
			t.Fatalf("read %d (+%dµs): got +%v, want +%dµs", i, r, got.Sub(base), want[i])
		}
	}
	before := time.Now()
	if got := w.at(time.Time{}); got.Before(before) {
		t.Fatalf("no read time: got %v, before the call at %v", got, before)
	}
}

// readClock notes the time of every read that returned data.
func TestReadClockNotesReads(t *testing.T) {
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	rc := readClock{Conn: a}
	go b.Write([]byte("x"))
	before := time.Now()
	if _, err := rc.Read(make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	if rc.at.Before(before) || rc.at.After(time.Now()) {
		t.Fatalf("read at %v, not within the call", rc.at)
	}
}
