package bookmark

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Bookmark
		ok   bool
	}{
		{"12290412031115262887|1484244707000000008|", Bookmark{12290412031115262887, 1484244707000000008}, true},
		{"7|1|", Bookmark{7, 1}, true},
		{Epoch, Bookmark{}, false},
		{Now, Bookmark{}, false},
		{MostRecentAlias, Bookmark{}, false},
		{"20150102T123500Z", Bookmark{}, false},
		{"1|2|,3|4|", Bookmark{}, false},
		{"1|2", Bookmark{}, false},
		{"|2|", Bookmark{}, false},
		{"1|x|", Bookmark{}, false},
		{"18446744073709551616|1|", Bookmark{}, false},
		{"", Bookmark{}, false},
	} {
		got, err := Parse(tc.in)
		if tc.ok != (err == nil) || got != tc.want {
			t.Errorf("Parse(%q) = %v, %v; want %v ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrNotBookmark) {
			t.Errorf("Parse(%q) error %v does not match ErrNotBookmark", tc.in, err)
		}
		if tc.ok && got.String() != tc.in {
			t.Errorf("String() = %q, want %q", got.String(), tc.in)
		}
	}
}

func bm(pub, seq uint64) string { return Bookmark{pub, seq}.String() }

// stores runs a test against every implementation.
func stores(t *testing.T, f func(t *testing.T, s Store)) {
	t.Run("memory", func(t *testing.T) { f(t, NewMemoryStore()) })
	t.Run("logged", func(t *testing.T) {
		s, err := OpenLogged(filepath.Join(t.TempDir(), "bm.log"), LoggedOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		f(t, s)
	})
}

func mustNil(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestMostRecent(t *testing.T) {
	type op struct {
		kind byte // b, d, p
		bm   string
	}
	for _, tc := range []struct {
		name string
		ops  []op
		want string
	}{
		{"empty", nil, Epoch},
		{"received only", []op{{'b', bm(1, 1)}, {'b', bm(1, 2)}}, Epoch},
		{"in order", []op{{'b', bm(1, 1)}, {'b', bm(1, 2)}, {'d', bm(1, 1)}}, bm(1, 1)},
		{"all discarded", []op{{'b', bm(1, 1)}, {'b', bm(1, 2)}, {'d', bm(1, 1)}, {'d', bm(1, 2)}}, bm(1, 2)},
		{"gap holds back", []op{{'b', bm(1, 1)}, {'b', bm(1, 2)}, {'b', bm(1, 3)}, {'d', bm(1, 1)}, {'d', bm(1, 3)}}, bm(1, 1)},
		{"gap filled", []op{{'b', bm(1, 1)}, {'b', bm(1, 2)}, {'b', bm(1, 3)}, {'d', bm(1, 1)}, {'d', bm(1, 3)}, {'d', bm(1, 2)}}, bm(1, 3)},
		{"first undiscarded", []op{{'b', bm(1, 1)}, {'b', bm(1, 2)}, {'d', bm(1, 2)}}, Epoch},
		{"two publishers all discarded", []op{{'b', bm(2, 5)}, {'b', bm(1, 9)}, {'d', bm(2, 5)}, {'d', bm(1, 9)}}, bm(1, 9) + "," + bm(2, 5)},
		{"publisher with nothing discarded pins the arrival prefix", []op{
			{'b', bm(1, 1)}, {'b', bm(2, 1)}, {'b', bm(1, 2)}, {'d', bm(1, 1)}, {'d', bm(1, 2)},
		}, bm(1, 1)},
		{"undiscarded first arrival forces epoch", []op{
			{'b', bm(2, 1)}, {'b', bm(1, 1)}, {'d', bm(1, 1)},
		}, Epoch},
		{"persisted caps", []op{{'b', bm(1, 1)}, {'b', bm(1, 2)}, {'p', bm(1, 1)}, {'d', bm(1, 1)}, {'d', bm(1, 2)}}, bm(1, 1)},
		{"persisted ahead does not move", []op{{'b', bm(1, 1)}, {'b', bm(1, 2)}, {'p', bm(1, 2)}, {'d', bm(1, 1)}}, bm(1, 1)},
		{"special values ignored", []op{{'b', Now}, {'b', Epoch}, {'b', "20150102T123500Z"}, {'d', Now}}, Epoch},
		{"unknown discard ignored", []op{{'b', bm(1, 1)}, {'d', bm(1, 7)}, {'d', bm(3, 1)}}, Epoch},
		{"comma list", []op{{'b', bm(1, 1) + "," + bm(2, 1)}, {'d', bm(1, 1) + "," + bm(2, 1)}}, bm(1, 1) + "," + bm(2, 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stores(t, func(t *testing.T, s Store) {
				for _, o := range tc.ops {
					switch o.kind {
					case 'b':
						mustNil(t, s.Log("sub", o.bm))
					case 'd':
						mustNil(t, s.Discard("sub", o.bm))
					case 'p':
						mustNil(t, s.Persisted("sub", o.bm))
					}
				}
				if got := s.MostRecent("sub"); got != tc.want {
					t.Fatalf("MostRecent = %q, want %q", got, tc.want)
				}
				if got := s.MostRecent("other"); got != Epoch {
					t.Fatalf("MostRecent of another subscription = %q, want EPOCH", got)
				}
			})
		})
	}
}

func TestIsDiscarded(t *testing.T) {
	stores(t, func(t *testing.T, s Store) {
		for i := uint64(1); i <= 5; i++ {
			if s.IsDiscarded("sub", bm(1, i)) {
				t.Fatalf("new %s reported as duplicate", bm(1, i))
			}
			mustNil(t, s.Log("sub", bm(1, i)))
		}
		mustNil(t, s.Discard("sub", bm(1, 2)))
		for _, tc := range []struct {
			bm   string
			want bool
		}{
			{bm(1, 1), true}, // received, not discarded: already delivered in this process
			{bm(1, 2), true},
			{bm(1, 5), true},
			{bm(1, 6), false},
			{bm(2, 1), false},
			{Now, false},
		} {
			if got := s.IsDiscarded("sub", tc.bm); got != tc.want {
				t.Errorf("IsDiscarded(%s) = %v, want %v", tc.bm, got, tc.want)
			}
		}
		if s.IsDiscarded("other", bm(1, 1)) {
			t.Error("duplicate detection leaks across subscriptions")
		}
	})
}

// TestModel drives random interleavings of publishers, receives and
// out-of-order discards, and checks the guarantees against the plain
// history: resuming from MostRecent never skips an undiscarded message, and
// once everything is discarded it skips everything.
func TestModel(t *testing.T) {
	for seed := uint64(0); seed < 200; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		s := NewMemoryStore()
		type msg struct {
			b         Bookmark
			discarded bool
		}
		var hist []msg // in arrival (log) order
		seqs := map[uint64]uint64{}
		pos := map[Bookmark]int{}
		for step := 0; step < 60; step++ {
			if rng.IntN(3) > 0 || len(hist) == 0 {
				p := uint64(rng.IntN(3) + 1)
				seqs[p] += uint64(rng.IntN(3) + 1)
				b := Bookmark{p, seqs[p]}
				if s.IsDiscarded("s", b.String()) {
					t.Fatalf("seed %d: fresh %v reported as duplicate", seed, b)
				}
				mustNil(t, s.Log("s", b.String()))
				pos[b] = len(hist)
				hist = append(hist, msg{b: b})
			} else {
				i := rng.IntN(len(hist))
				hist[i].discarded = true
				mustNil(t, s.Discard("s", hist[i].b.String()))
			}
			mr := s.MostRecent("s")
			start := -1 // replay starts after this log position
			if mr != Epoch {
				start = len(hist)
				for _, part := range strings.Split(mr, ",") {
					b, err := Parse(part)
					if err != nil {
						t.Fatalf("seed %d: MostRecent %q: %v", seed, mr, err)
					}
					start = min(start, pos[b])
				}
			}
			allDone := true
			for i, m := range hist {
				if !m.discarded {
					allDone = false
					if i <= start {
						t.Fatalf("seed %d step %d: MostRecent %q skips undiscarded %v", seed, step, mr, m.b)
					}
				}
			}
			if allDone {
				for _, part := range strings.Split(mr, ",") {
					b, _ := Parse(part)
					if pos[b] < len(hist)-1 && b.Publisher == hist[len(hist)-1].b.Publisher {
						t.Fatalf("seed %d: everything discarded but MostRecent %q lags", seed, mr)
					}
				}
			}
		}
	}
}

func ExampleMemoryStore() {
	s := NewMemoryStore()
	for i := uint64(1); i <= 3; i++ {
		s.Log("orders", Bookmark{Publisher: 42, Seq: i}.String())
	}
	s.Discard("orders", "42|1|")
	s.Discard("orders", "42|3|")
	fmt.Println(s.MostRecent("orders"), s.IsDiscarded("orders", "42|2|"))
	// Output: 42|1| true
}
