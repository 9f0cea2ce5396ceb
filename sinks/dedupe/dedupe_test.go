package dedupe

import (
	"errors"
	"fmt"
	"hash/crc32"
	"maps"
	"os"
	"path/filepath"
	"testing"
)

func TestStateRoundTrip(t *testing.T) {
	for _, s := range []State{
		{File: "", Length: 0, Highs: map[uint64]uint64{}},
		{File: "1700000000000-3", Length: 12345, Highs: map[uint64]uint64{7: 1, 18446744073709551615: 18446744073709551615, 3: 99}},
		{File: "odd \"name\"\nwith newline", Length: 1, Highs: map[uint64]uint64{1: 0}},
		{Highs: map[uint64]uint64{2: 3}, Files: map[string]int64{"/d/a b/.f.1.tmp": 10, "/d/x/.g.2.tmp": 0}},
	} {
		got, err := Unmarshal(s.Marshal())
		if err != nil {
			t.Fatalf("%+v: %v", s, err)
		}
		if got.File != s.File || got.Length != s.Length || !maps.Equal(got.Highs, s.Highs) || !maps.Equal(got.Files, s.Files) {
			t.Fatalf("round trip of %+v gave %+v", s, got)
		}
	}
}

func TestUnmarshalRefusesDamage(t *testing.T) {
	good := State{File: "f-1", Length: 10, Highs: map[uint64]uint64{5: 6}}.Marshal()
	withCRC := func(body string) []byte {
		return []byte(body + "crc " + crcHex(body) + "\n")
	}
	for name, data := range map[string][]byte{
		"empty":          nil,
		"truncated":      good[:len(good)-3],
		"no newline":     good[:len(good)-1],
		"flipped byte":   flip(good, 25),
		"wrong magic":    withCRC("ampsflume-dedupe 2\nfile \"f\"\nlength 1\n"),
		"unquoted file":  withCRC(magic + "\nfile f\nlength 1\n"),
		"negative len":   withCRC(magic + "\nfile \"f\"\nlength -1\n"),
		"publisher zero": withCRC(magic + "\nfile \"f\"\nlength 1\np 0 5\n"),
		"repeated pub":   withCRC(magic + "\nfile \"f\"\nlength 1\np 4 5\np 4 6\n"),
		"junk line":      withCRC(magic + "\nfile \"f\"\nlength 1\nq 4 5\n"),
		"repeated file":  withCRC(magic + "\nfile \"f\"\nlength 1\nf 1 \"a\"\nf 2 \"a\"\n"),
		"bad file size":  withCRC(magic + "\nfile \"f\"\nlength 1\nf -1 \"a\"\n"),
		"short":          withCRC(magic + "\nfile \"f\"\n"),
	} {
		if _, err := Unmarshal(data); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: err = %v, want ErrCorrupt", name, err)
		}
	}
}

func crcHex(body string) string {
	return fmt.Sprintf("%08x", crc32.Checksum([]byte(body), crcTable))
}

func flip(b []byte, i int) []byte {
	c := append([]byte(nil), b...)
	c[i] ^= 0x20
	return c
}

func TestSaveLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state")
	if s, ok, err := Load(path); err != nil || ok || len(s.Highs) != 0 {
		t.Fatalf("Load of a missing file = %+v, %v, %v", s, ok, err)
	}
	for i := range 3 {
		want := State{File: "out", Length: int64(i * 100), Highs: map[uint64]uint64{9: uint64(i)}}
		if err := Save(path, want); err != nil {
			t.Fatal(err)
		}
		got, ok, err := Load(path)
		if err != nil || !ok || got.Length != want.Length || !maps.Equal(got.Highs, want.Highs) {
			t.Fatalf("Load = %+v, %v, %v; want %+v", got, ok, err, want)
		}
	}
	// A temporary file left by a crash during Save does not matter.
	if err := os.WriteFile(path+".tmp", []byte("torn"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Load(path); err != nil {
		t.Fatal(err)
	}
	if err := Save(path, State{File: "x"}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("garbage\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Load(path); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Load of garbage: %v", err)
	}
}

func TestFilter(t *testing.T) {
	type step struct {
		header  string
		present bool
		want    Verdict
	}
	tests := []struct {
		name  string
		highs map[uint64]uint64
		steps []step
	}{
		{"fresh publisher", nil, []step{{"5|1|", true, Write}, {"5|2|", true, Write}, {"5|2|", true, Duplicate}, {"5|1|", true, Duplicate}}},
		{"recorded highs", map[uint64]uint64{5: 10}, []step{{"5|10|", true, Duplicate}, {"5|3|", true, Duplicate}, {"5|11|", true, Write}, {"6|1|", true, Write}}},
		{"gaps are fine", map[uint64]uint64{5: 10}, []step{{"5|20|", true, Write}, {"5|15|", true, Duplicate}}},
		{"no header", nil, []step{{"", false, NoBookmark}, {"0", true, NoBookmark}, {"0|1|", true, NoBookmark}, {"x|1|", true, NoBookmark}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := NewFilter(tt.highs)
			for i, s := range tt.steps {
				if got := f.Judge(s.header, s.present); got != s.want {
					t.Fatalf("step %d (%q): %v, want %v", i, s.header, got, s.want)
				}
			}
		})
	}
}

func TestFilterCommitAbort(t *testing.T) {
	f := NewFilter(map[uint64]uint64{1: 5})
	if f.Judge("1|6|", true) != Write || f.Judge("2|1|", true) != Write {
		t.Fatal("new events refused")
	}
	if h := f.Highs(); !maps.Equal(h, map[uint64]uint64{1: 6, 2: 1}) {
		t.Fatalf("Highs = %v", h)
	}
	f.Abort() // the batch failed: its events come again and are new
	if f.Judge("1|6|", true) != Write || f.Judge("2|1|", true) != Write {
		t.Fatal("events of an aborted batch judged duplicates")
	}
	f.Commit()
	if f.Judge("1|6|", true) != Duplicate || f.Judge("2|1|", true) != Duplicate {
		t.Fatal("events of a committed batch not judged duplicates")
	}
}

func FuzzUnmarshal(f *testing.F) {
	f.Add(State{File: "f-1", Length: 10, Highs: map[uint64]uint64{5: 6, 9: 1}}.Marshal())
	f.Add([]byte(magic + "\n"))
	f.Add(State{Highs: map[uint64]uint64{1: 2}, Files: map[string]int64{"a": 1}}.Marshal())
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Unmarshal(data)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not match ErrCorrupt", err)
			}
			return
		}
		again, err := Unmarshal(s.Marshal())
		if err != nil || again.File != s.File || again.Length != s.Length || !maps.Equal(again.Highs, s.Highs) || !maps.Equal(again.Files, s.Files) {
			t.Fatalf("re-encoding %+v: %+v, %v", s, again, err)
		}
	})
}
