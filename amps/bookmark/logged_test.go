package bookmark

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// fill applies a fixed history with two subscriptions, two publishers, a gap
// and a persisted ack.
func fill(t *testing.T, s Store) {
	t.Helper()
	for i := uint64(1); i <= 6; i++ {
		mustNil(t, s.Log("a", bm(1, i)))
		mustNil(t, s.Log("a", bm(2, i*10)))
		mustNil(t, s.Log("b", bm(3, i)))
	}
	for _, b := range []string{bm(1, 1), bm(2, 10), bm(1, 2), bm(1, 4), bm(2, 20)} {
		mustNil(t, s.Discard("a", b))
	}
	for i := uint64(1); i <= 6; i++ {
		mustNil(t, s.Discard("b", bm(3, i)))
	}
	mustNil(t, s.Persisted("b", bm(3, 5)))
}

// probes are the questions whose answers must survive reopen and prune.
func probes(s Store) []any {
	var out []any
	for _, sub := range []string{"a", "b", "c", "h"} {
		out = append(out, s.MostRecent(sub))
		for _, p := range []uint64{1, 2, 3} {
			for seq := uint64(0); seq <= 501; seq++ {
				out = append(out, s.IsDiscarded(sub, bm(p, seq)))
			}
		}
	}
	return out
}

func equalProbes(t *testing.T, what string, got, want []any) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d answers, want %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: answer %d = %v, want %v", what, i, got[i], want[i])
		}
	}
}

func open(t *testing.T, path string) *LoggedStore {
	t.Helper()
	s, err := OpenLogged(path, LoggedOptions{Sync: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestLoggedReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bm.log")
	s := open(t, path)
	fill(t, s)
	mustNil(t, s.Close())

	r := open(t, path)
	if got, want := r.MostRecent("a"), bm(1, 2)+","+bm(2, 20); got != want {
		t.Fatalf("recovered MostRecent(a) = %q, want %q", got, want)
	}
	if got, want := r.MostRecent("b"), bm(3, 5); got != want {
		t.Fatalf("recovered MostRecent(b) = %q, want %q (capped by persisted)", got, want)
	}
	// Recovered but undiscarded messages come again after a restart and must
	// be delivered; discarded ones are duplicates.
	if r.IsDiscarded("a", bm(1, 3)) {
		t.Fatal("recovered undiscarded 1|3| reported as duplicate")
	}
	if !r.IsDiscarded("a", bm(1, 4)) || !r.IsDiscarded("a", bm(1, 2)) {
		t.Fatal("discarded bookmarks not reported as duplicates after restart")
	}
	// Once redelivered, it is a duplicate again.
	mustNil(t, r.Log("a", bm(1, 3)))
	if !r.IsDiscarded("a", bm(1, 3)) {
		t.Fatal("redelivered 1|3| not detected as a duplicate")
	}
	mustNil(t, r.Discard("a", bm(1, 3)))
	if got, want := r.MostRecent("a"), bm(1, 3)+","+bm(2, 20); got != want {
		t.Fatalf("MostRecent(a) after discarding the gap = %q, want %q", got, want)
	}
}

// TestLoggedTornTail cuts the file at every byte offset and checks that the
// store opens with exactly the records that were whole, then keeps working.
func TestLoggedTornTail(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bm.log")
	s := open(t, path)
	var states [][]any // states[i]: answers after i records
	var ends []int     // ends[i]: file length after i records
	snap := func() {
		mustNil(t, s.Flush())
		fi, err := os.Stat(path)
		mustNil(t, err)
		states = append(states, probes(s))
		ends = append(ends, int(fi.Size()))
	}
	snap()
	for _, op := range []func() error{
		func() error { return s.Log("a", bm(1, 1)) },
		func() error { return s.Log("a", bm(1, 2)) },
		func() error { return s.Discard("a", bm(1, 1)) },
		func() error { return s.Persisted("a", bm(1, 2)) },
		func() error { return s.Discard("a", bm(1, 2)) },
	} {
		mustNil(t, op())
		snap()
	}
	mustNil(t, s.Close())
	full, err := os.ReadFile(path)
	mustNil(t, err)

	for cut := 0; cut <= len(full); cut++ {
		whole := 0
		for i, e := range ends {
			if e <= cut {
				whole = i
			}
		}
		p := filepath.Join(dir, "cut.log")
		mustNil(t, os.WriteFile(p, full[:cut], 0o644))
		r, err := OpenLogged(p, LoggedOptions{Logger: quiet})
		if err != nil {
			t.Fatalf("cut at %d: %v", cut, err)
		}
		// Recovered entries answer IsDiscarded differently from live ones,
		// so compare only the resume points here.
		if got, want := r.MostRecent("a"), states[whole][0]; got != want {
			t.Fatalf("cut at %d: MostRecent = %q, want %q", cut, got, want)
		}
		if cut >= len(logMagic) && r.TornBytes() != int64(cut-ends[whole]) {
			t.Fatalf("cut at %d: TornBytes = %d, want %d", cut, r.TornBytes(), cut-ends[whole])
		}
		// The torn tail is gone and appends land after the last whole record.
		mustNil(t, r.Log("a", bm(9, 9)))
		mustNil(t, r.Discard("a", bm(9, 9)))
		mustNil(t, r.Close())
		again, err := OpenLogged(p, LoggedOptions{Logger: quiet})
		if err != nil {
			t.Fatalf("cut at %d, reopened after append: %v", cut, err)
		}
		if again.IsDiscarded("a", bm(9, 8)) != true || again.TornBytes() != 0 {
			t.Fatalf("cut at %d: append after recovery not replayed", cut)
		}
		again.Close()
	}
}

func TestLoggedCorruption(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bm.log")
	s := open(t, path)
	fill(t, s)
	mustNil(t, s.Close())
	full, err := os.ReadFile(path)
	mustNil(t, err)
	for _, tc := range []struct {
		name string
		off  int
	}{
		{"magic", 0},
		{"first record length", len(logMagic)},
		{"first record body", len(logMagic) + recHeader + 3},
		{"middle record checksum", len(full)/2 - len(full)/2%37},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := append([]byte(nil), full...)
			bad[tc.off] ^= 0x5a
			p := filepath.Join(dir, tc.name+".log")
			mustNil(t, os.WriteFile(p, bad, 0o644))
			if _, err := OpenLogged(p, LoggedOptions{Logger: quiet}); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("open of file damaged at %d: err = %v, want ErrCorrupt", tc.off, err)
			}
		})
	}
}

func TestLoggedPrune(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bm.log")
	s := open(t, path)
	// A long history that is almost all discarded: prune must shrink it.
	// (Entries after the first undiscarded one are kept: they decide the
	// resume point once it is discarded.)
	for i := uint64(1); i <= 500; i++ {
		mustNil(t, s.Log("h", bm(1+i%3, i)))
	}
	for i := uint64(1); i <= 500; i++ {
		if i != 490 && i != 495 {
			mustNil(t, s.Discard("h", bm(1+i%3, i)))
		}
	}
	fill(t, s)
	mustNil(t, s.Flush())
	before, err := os.Stat(path)
	mustNil(t, err)
	want := probes(s)

	mustNil(t, s.Prune())
	equalProbes(t, "live store after prune", probes(s), want)
	after, err := os.Stat(path)
	mustNil(t, err)
	if after.Size()*4 > before.Size() {
		t.Fatalf("prune left %d of %d bytes", after.Size(), before.Size())
	}
	if _, err := os.Stat(path + ".tmp"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("temporary file left behind: %v", err)
	}
	// Appends after a prune go to the new file.
	mustNil(t, s.Log("c", bm(1, 1)))
	mustNil(t, s.Discard("c", bm(1, 1)))
	want = probes(s)
	mustNil(t, s.Close())

	// Reopened from the pruned file, with the same answers, except that
	// undiscarded entries are now "recovered" (expected again).
	r := open(t, path)
	for _, sub := range []string{"a", "b", "c", "h"} {
		if got := r.MostRecent(sub); got != s.MostRecent(sub) {
			t.Fatalf("MostRecent(%s) = %q after reopen, want %q", sub, got, s.MostRecent(sub))
		}
	}
	// Exactly the undiscarded entries are expected again.
	for _, sb := range [][2]string{
		{"h", bm(2, 490)}, {"h", bm(1, 495)},
		{"a", bm(1, 3)}, {"a", bm(1, 5)}, {"a", bm(1, 6)},
		{"a", bm(2, 30)}, {"a", bm(2, 40)}, {"a", bm(2, 50)}, {"a", bm(2, 60)},
	} {
		if r.IsDiscarded(sb[0], sb[1]) {
			t.Fatalf("undiscarded %s of %s lost by prune", sb[1], sb[0])
		}
		mustNil(t, r.Log(sb[0], sb[1]))
	}
	got := probes(r)
	equalProbes(t, "reopened pruned store", got, want)
	// Pruning the pruned store is a fixed point.
	mustNil(t, r.Prune())
	equalProbes(t, "second prune", probes(r), want)
}

func TestLoggedClosed(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "bm.log"))
	mustNil(t, s.Close())
	if err := s.Log("a", bm(1, 1)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Log after Close: %v", err)
	}
	if err := s.Prune(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Prune after Close: %v", err)
	}
	mustNil(t, s.Close())
}

func FuzzReadLog(f *testing.F) {
	var seed []byte
	seed = append(seed, logMagic...)
	seed = appendRecord(seed, record{kind: kindReceived, subID: "sub", bm: Bookmark{1, 2}})
	seed = appendRecord(seed, record{kind: kindDiscarded, subID: "sub", bm: Bookmark{1, 2}})
	f.Add(seed)
	f.Add(appendRecord(append([]byte(nil), seed...), record{kind: kindRange, subID: "sub", spec: "[1|2|,20240101T000000Z:1|9|)"}))
	f.Add(seed[:len(seed)-3])
	f.Add([]byte(logMagic))
	f.Add([]byte("AMPS"))
	f.Add(append([]byte(logMagic), make([]byte, 40)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, good, err := readLog(data)
		if good < 0 || good > len(data) {
			t.Fatalf("good = %d outside [0, %d]", good, len(data))
		}
		if err != nil {
			return
		}
		// The valid prefix is exactly the records re-encoded.
		var re []byte
		if good > 0 {
			re = append(re, logMagic...)
		}
		for _, r := range recs {
			re = appendRecord(re, r)
		}
		if string(re) != string(data[:good]) {
			t.Fatalf("valid prefix of %d bytes does not re-encode to itself", good)
		}
		s := newSubscription()
		for _, r := range recs {
			s.apply(r.kind, r.bm)
		}
		s.mostRecent()
	})
}
