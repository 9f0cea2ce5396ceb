package bookmark

import (
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseRange(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // canonical form; "" when invalid
	}{
		{"[0:1|9|]", "[0:1|9|]"},
		{"(1|3|:1|9|)", "(1|3|:1|9|)"},
		{" [ 1|3| , 2|5| : 0|1| ) ", "[1|3|,2|5|:0|1|)"},
		{"(20240101T000000Z:20240102T000000.123456Z]", "(20240101T000000Z:20240102T000000.123456Z]"},
		{"[0|1|,20240101T000000:1|9|]", "[0|1|,20240101T000000:1|9|]"},
		{"1|3|", ""},
		{"[1|3|:1|9|", ""},
		{"[1|3|]", ""},
		{"[1|3|:1|9|:2|2|]", ""},
		{"[:1|9|]", ""},
		{"[1|3|:]", ""},
		{"[1|3|,:1|9|]", ""},
		{"[1|3|:0]", ""},
		{"[1|3|:1|9|,2|2|]", ""},
		{"[0|3|:1|9|]", ""},
		{"[yesterday:1|9|]", ""},
		{"[2024-01-01T00:00:00Z:1|9|]", ""},
		{"[20240101T0000:1|9|]", ""},
	} {
		r, err := ParseRange(tc.in)
		if tc.want == "" {
			if !errors.Is(err, ErrInvalidRange) {
				t.Errorf("ParseRange(%q) = %v, %v; want ErrInvalidRange", tc.in, r, err)
			}
			continue
		}
		if err != nil || r.String() != tc.want {
			t.Errorf("ParseRange(%q) = %q, %v; want %q", tc.in, r.String(), err, tc.want)
		}
		if !IsRange(tc.in) {
			t.Errorf("IsRange(%q) = false", tc.in)
		}
	}
	for _, s := range []string{"", "0", "1|2|", "20240101T000000Z", " "} {
		if IsRange(s) {
			t.Errorf("IsRange(%q) = true", s)
		}
	}
}

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"[0:1|9|]", "(1|3|,2|5|:0|1|)", "[20240101T000000Z:1|2|)", "[:]", "(", "[1|2|:3|4|:5|6|]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRange(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidRange) {
				t.Fatalf("ParseRange(%q): error %v does not match ErrInvalidRange", s, err)
			}
			return
		}
		if !IsRange(s) {
			t.Fatalf("ParseRange(%q) accepted what IsRange refuses", s)
		}
		again, err := ParseRange(r.String())
		if err != nil || again.String() != r.String() {
			t.Fatalf("%q -> %q -> %q, %v: not stable", s, r.String(), again.String(), err)
		}
		// A resumed range must parse too, whatever the resume points.
		res := r.resume([]Bookmark{{1, 1}, {7, 1 << 63}})
		if _, err := ParseRange(res.String()); err != nil {
			t.Fatalf("resumed %q = %q does not parse: %v", r.String(), res.String(), err)
		}
	})
}

// rangeCases drive MostRecent for ranges: ops are "log X", "discard X",
// "persist X" applied in order to subscription "s".
var rangeCases = []struct {
	name string
	ops  []string
	want string
}{
	{"nothing received", []string{"log [0:1|9|]"}, "[0:1|9|]"},
	{"nothing discarded, inclusive", []string{"log [0:1|9|]", "log 1|1|", "log 1|2|"}, "[0:1|9|]"},
	{"nothing discarded, exclusive", []string{"log (1|3|:1|9|)", "log 1|4|"}, "(1|3|:1|9|)"},
	{"EPOCH start after discards", []string{"log [0:1|9|]", "log 1|1|", "log 1|2|", "log 1|3|", "discard 1|1|", "discard 1|2|"}, "(1|2|:1|9|]"},
	{"exclusive start after discards", []string{"log (1|3|:1|9|)", "log 1|4|", "log 1|5|", "discard 1|4|"}, "(1|4|:1|9|)"},
	{"inclusive start discarded", []string{"log [1|3|:1|9|]", "log 1|3|", "log 1|4|", "discard 1|3|"}, "(1|3|:1|9|]"},
	{"all discarded, up to the end", []string{"log [1|3|:1|5|]", "log 1|3|", "log 1|5|", "discard 1|3|", "discard 1|5|"}, "(1|5|:1|5|]"},
	{"discard out of order waits for the head", []string{"log [1|3|:1|9|]", "log 1|3|", "log 1|4|", "discard 1|4|"}, "[1|3|:1|9|]"},
	{"list, one publisher not passed, inclusive", []string{"log [1|3|,2|5|:1|20|]", "log 1|3|", "log 1|4|", "discard 1|3|", "discard 1|4|"}, "[1|4|,2|5|:1|20|]"},
	{"list, one publisher not passed, exclusive", []string{"log (1|3|,2|5|:1|20|]", "log 1|4|", "discard 1|4|"}, "(1|4|,2|5|:1|20|]"},
	{"list, both passed", []string{"log [1|3|,2|5|:1|20|)", "log 1|3|", "log 2|6|", "discard 1|3|", "discard 2|6|"}, "(1|3|,2|6|:1|20|)"},
	{"list, new publisher", []string{"log (1|3|:1|20|]", "log 3|1|", "log 1|4|", "discard 3|1|"}, "(1|3|,3|1|:1|20|]"},
	{"timestamp kept", []string{"log [20240101T000000Z:1|9|]", "log 1|2|", "discard 1|2|"}, "(1|2|,20240101T000000Z:1|9|]"},
	{"NOW kept, EPOCH dropped", []string{"log [0,0|1|:20250101T000000Z)", "log 1|7|", "discard 1|7|"}, "(1|7|,0|1|:20250101T000000Z)"},
	{"after duplicates", []string{"log [0:1|9|]", "log 1|1|", "log 1|2|", "log 1|3|", "discard 1|1|", "discard 1|2|", "log 1|1|", "log 1|2|", "discard 1|1|"}, "(1|2|:1|9|]"},
	{"never backwards past a persisted cap, exclusive", []string{"log (1|10|:1|20|]", "log 1|11|", "log 1|12|", "discard 1|11|", "discard 1|12|", "persist 1|5|"}, "(1|10|:1|20|]"},
	{"never backwards past a persisted cap, inclusive", []string{"log [1|10|:1|20|]", "log 1|10|", "log 1|11|", "discard 1|10|", "discard 1|11|", "persist 1|5|"}, "[1|10|:1|20|]"},
	{"persisted cap within the range", []string{"log [0:1|20|]", "log 1|11|", "log 1|12|", "discard 1|11|", "discard 1|12|", "persist 1|11|"}, "(1|11|:1|20|]"},
	{"same range again keeps the state", []string{"log [0:1|9|]", "log 1|1|", "discard 1|1|", "log [ 0 : 1|9| ]"}, "(1|1|:1|9|]"},
	{"different range starts afresh", []string{"log [0:1|9|]", "log 1|1|", "discard 1|1|", "log [0:1|20|]"}, "[0:1|20|]"},
}

func applyOps(t *testing.T, s Store, ops []string) {
	t.Helper()
	for _, op := range ops {
		verb, arg, _ := strings.Cut(op, " ")
		switch verb {
		case "log":
			mustNil(t, s.Log("s", arg))
		case "discard":
			mustNil(t, s.Discard("s", arg))
		case "persist":
			mustNil(t, s.Persisted("s", arg))
		default:
			t.Fatalf("unknown op %q", op)
		}
	}
}

func TestMostRecentRange(t *testing.T) {
	for _, tc := range rangeCases {
		t.Run(tc.name, func(t *testing.T) {
			stores(t, func(t *testing.T, s Store) {
				applyOps(t, s, tc.ops)
				if got := s.MostRecent("s"); got != tc.want {
					t.Fatalf("MostRecent = %q, want %q", got, tc.want)
				}
				if _, err := ParseRange(s.MostRecent("s")); err != nil {
					t.Fatalf("MostRecent does not parse: %v", err)
				}
			})
		})
	}
}

// TestLoggedRangeReopenPrune checks every case across a reopen, a prune
// and a reopen of the pruned file.
func TestLoggedRangeReopenPrune(t *testing.T) {
	for _, tc := range rangeCases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bm.log")
			s := open(t, path)
			applyOps(t, s, tc.ops)
			mustNil(t, s.Close())
			r := open(t, path)
			if got := r.MostRecent("s"); got != tc.want {
				t.Fatalf("reopened: MostRecent = %q, want %q", got, tc.want)
			}
			mustNil(t, r.Prune())
			if got := r.MostRecent("s"); got != tc.want {
				t.Fatalf("pruned: MostRecent = %q, want %q", got, tc.want)
			}
			mustNil(t, r.Close())
			p := open(t, path)
			if got := p.MostRecent("s"); got != tc.want {
				t.Fatalf("reopened after prune: MostRecent = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLoggedRangeOnlyWrittenWhenChanged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bm.log")
	s := open(t, path)
	mustNil(t, s.Log("s", "[0:1|9|]"))
	mustNil(t, s.Flush())
	before, err := os.Stat(path)
	mustNil(t, err)
	mustNil(t, s.Log("s", "[ 0:1|9| ]"))
	mustNil(t, s.Flush())
	after, err := os.Stat(path)
	mustNil(t, err)
	if after.Size() != before.Size() {
		t.Fatalf("logging the same range again grew the file from %d to %d bytes", before.Size(), after.Size())
	}
	if err := s.Log("s", "[0:0]"); !errors.Is(err, ErrInvalidRange) {
		t.Fatalf("Log of an invalid range = %v, want ErrInvalidRange", err)
	}
	if got := s.MostRecent("s"); got != "[0:1|9|]" {
		t.Fatalf("an invalid range replaced the recorded one: %q", got)
	}
}

// TestLoggedRangeTornTail cuts the file at every length inside the last
// record, a range record: the store must open, cut the tail off, and
// answer as if that record had never been written.
func TestLoggedRangeTornTail(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bm.log")
	s := open(t, path)
	applyOps(t, s, []string{"log [0:1|9|]", "log 1|1|", "log 1|2|", "discard 1|1|"})
	mustNil(t, s.Flush())
	st, err := os.Stat(path)
	mustNil(t, err)
	prefix := st.Size()
	mustNil(t, s.Log("s", "(1|5|:1|20|]"))
	mustNil(t, s.Close())
	full, err := os.ReadFile(path)
	mustNil(t, err)
	for cut := prefix; cut < int64(len(full)); cut++ {
		p := filepath.Join(dir, "torn.log")
		mustNil(t, os.WriteFile(p, full[:cut], 0o644))
		r := open(t, p)
		if got, want := r.TornBytes(), cut-prefix; got != want {
			t.Fatalf("cut at %d: TornBytes = %d, want %d", cut, got, want)
		}
		if got, want := r.MostRecent("s"), "(1|1|:1|9|]"; got != want {
			t.Fatalf("cut at %d: MostRecent = %q, want %q", cut, got, want)
		}
		mustNil(t, r.Close())
	}
	r := open(t, path)
	if got, want := r.MostRecent("s"), "(1|5|:1|20|]"; got != want {
		t.Fatalf("whole file: MostRecent = %q, want %q", got, want)
	}
}

// TestLoggedOldFormat loads a file laid out as before ranges existed
// (written here byte by byte, not by appendRecord) and then adds a range.
func TestLoggedOldFormat(t *testing.T) {
	old := []byte(logMagic)
	rec := func(kind byte, sub string, pub, seq uint64) {
		body := []byte{kind, byte(len(sub)), 0}
		body = append(body, sub...)
		for _, v := range []uint64{pub, seq} {
			for i := 0; i < 8; i++ {
				body = append(body, byte(v>>(8*i)))
			}
		}
		n := len(body)
		c := crc32.Checksum(body, crc32.MakeTable(crc32.Castagnoli))
		old = append(old, byte(n), byte(n>>8), byte(n>>16), byte(n>>24), byte(c), byte(c>>8), byte(c>>16), byte(c>>24))
		old = append(old, body...)
	}
	rec('b', "s", 1, 1)
	rec('b', "s", 1, 2)
	rec('d', "s", 1, 1)
	path := filepath.Join(t.TempDir(), "bm.log")
	mustNil(t, os.WriteFile(path, old, 0o644))
	s := open(t, path)
	if got, want := s.MostRecent("s"), bm(1, 1); got != want {
		t.Fatalf("old file: MostRecent = %q, want %q", got, want)
	}
	if s.IsDiscarded("s", bm(1, 2)) {
		t.Fatalf("old file: a message never discarded counts as a duplicate")
	}
	mustNil(t, s.Log("r", "[0:1|9|]"))
	mustNil(t, s.Close())
	r := open(t, path)
	if got, want := r.MostRecent("s"), bm(1, 1); got != want {
		t.Fatalf("reopened: MostRecent(s) = %q, want %q", got, want)
	}
	if got, want := r.MostRecent("r"), "[0:1|9|]"; got != want {
		t.Fatalf("reopened: MostRecent(r) = %q, want %q", got, want)
	}
}
