package file

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"ampsflume/flume"
)

func TestRestart(t *testing.T) {
	for _, tc := range []struct {
		name  string
		clean bool // Stop (with checkpoint) versus abandon (crash)
		ckpt  bool // a checkpoint in the middle of the history
		small bool // tiny segments and spills
	}{
		{"clean", true, false, false},
		{"crash", false, false, false},
		{"crash after checkpoint", false, true, false},
		{"clean small segments", true, true, true},
		{"crash small segments", false, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t)
			if tc.small {
				cfg.MaxFileSize = minMaxFileSize
				cfg.spillBytes = 100
			}
			c := mustStart(t, cfg)
			putBatch(t, c, seq("a", 0, 50)...)
			requireEqual(t, "first take", takeBatch(t, c, 10, true), seq("a", 0, 10))
			if tc.ckpt {
				requireNoError(t, c.checkpoint())
			}
			putBatch(t, c, seq("b", 0, 30)...)
			requireEqual(t, "rolled back", takeBatch(t, c, 5, false), seq("a", 10, 15))
			requireEqual(t, "second take", takeBatch(t, c, 5, true), seq("a", 10, 15))

			// Open transactions at the crash: a put that never commits,
			// and a take that never commits.
			open := c.NewTransaction()
			requireNoError(t, open.Begin())
			for _, b := range seq("x", 0, 20) {
				requireNoError(t, open.Put(flume.NewEvent([]byte(b), nil)))
			}
			taking := c.NewTransaction()
			requireNoError(t, taking.Begin())
			if e, err := taking.Take(); err != nil || e == nil {
				t.Fatalf("Take = %v, %v", e, err)
			}
			if tc.clean {
				mustStop(t, c)
			} else {
				c.abandon()
			}
			_ = open.Close()
			_ = taking.Close()

			c2 := mustStart(t, cfg)
			defer mustStop(t, c2)
			want := append(seq("a", 15, 50), seq("b", 0, 30)...)
			if c2.Size() != len(want) {
				t.Fatalf("Size after restart = %d, want %d", c2.Size(), len(want))
			}
			requireEqual(t, "after restart", drainAll(t, c2), want)
		})
	}
}

// TestRestartTwice checks that the ids of transactions and segments keep
// growing across restarts, so that old records never match new ones.
func TestRestartTwice(t *testing.T) {
	cfg := testConfig(t)
	var want []string
	for round := range 4 {
		c := mustStart(t, cfg)
		batch := seq(string(rune('a'+round)), 0, 10)
		putBatch(t, c, batch...)
		want = append(want, batch...)
		got := takeBatch(t, c, 3, true)
		requireEqual(t, "take", got, want[:3])
		want = want[3:]
		if round%2 == 0 {
			c.abandon()
		} else {
			mustStop(t, c)
		}
	}
	c := mustStart(t, cfg)
	defer mustStop(t, c)
	requireEqual(t, "final", drainAll(t, c), want)
}

// segmentFiles lists the segment paths of the config, oldest first.
func segmentFiles(t *testing.T, cfg Config) []string {
	t.Helper()
	segs, err := listSegments(osFS{}, cfg.DataDirs)
	requireNoError(t, err)
	var out []string
	for _, s := range segs {
		out = append(out, s.path)
	}
	return out
}

// recordOffsets returns the offsets of the records of a segment file.
func recordOffsets(t *testing.T, path string) []int64 {
	t.Helper()
	f, err := osFS{}.OpenFile(path, os.O_RDONLY, 0)
	requireNoError(t, err)
	defer f.Close()
	id, _ := parseSegName(filepath.Base(path))
	var offs []int64
	res, err := scanSegment(f, id, 0, DefaultMaxFileSize, false, func(off int64, _ record) error {
		offs = append(offs, off)
		return nil
	})
	requireNoError(t, err)
	if res.bad != nil {
		t.Fatalf("%s: %v", path, res.bad)
	}
	return offs
}

// TestTornTailEveryOffset cuts the newest segment at every byte of its
// last record (a commit of one event written in a single append) and checks
// that the channel opens with every earlier committed event.
func TestTornTailEveryOffset(t *testing.T) {
	base := testConfig(t)
	base.CheckpointOnClose = false
	c := mustStart(t, base)
	putBatch(t, c, seq("e", 0, 5)...)
	putBatch(t, c, "last-one-with-a-longer-body")
	c.abandon()
	segs := segmentFiles(t, base)
	last := segs[len(segs)-1]
	orig, err := os.ReadFile(last)
	requireNoError(t, err)
	offs := recordOffsets(t, last)
	// The last append is a PUT record followed by its COMMIT record.
	start := offs[len(offs)-2]
	for cut := start; cut < int64(len(orig)); cut++ {
		dir := t.TempDir()
		cfg := base
		cfg.CheckpointDir = filepath.Join(dir, "checkpoint")
		cfg.DataDirs = []string{filepath.Join(dir, "data")}
		copyDir(t, base.CheckpointDir, cfg.CheckpointDir)
		copyDir(t, base.DataDirs[0], cfg.DataDirs[0])
		p := filepath.Join(cfg.DataDirs[0], filepath.Base(last))
		requireNoError(t, os.WriteFile(p, orig[:cut], 0o644))
		c := mustStart(t, cfg)
		boundary := cut == start || cut == offs[len(offs)-1]
		if want := map[bool]int64{true: 0, false: 1}[boundary]; c.tornTails.Load() != want {
			t.Fatalf("cut at %d: torn tail count %d, want %d", cut, c.tornTails.Load(), want)
		}
		requireEqual(t, "events", drainAll(t, c), seq("e", 0, 5))
		mustStop(t, c)
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	requireNoError(t, os.MkdirAll(to, 0o755))
	ents, err := os.ReadDir(from)
	requireNoError(t, err)
	for _, e := range ents {
		if e.Name() == lockName {
			continue
		}
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		requireNoError(t, err)
		requireNoError(t, os.WriteFile(filepath.Join(to, e.Name()), b, 0o644))
	}
}

// TestTornSegmentHeader: a crash right after a segment was created.
func TestTornSegmentHeader(t *testing.T) {
	cfg := testConfig(t)
	c := mustStart(t, cfg)
	putBatch(t, c, "a", "b")
	c.abandon()
	p := filepath.Join(cfg.DataDirs[0], segName(99))
	requireNoError(t, os.WriteFile(p, []byte(segMagic[:5]), 0o644))
	c = mustStart(t, cfg)
	defer mustStop(t, c)
	requireEqual(t, "events", drainAll(t, c), []string{"a", "b"})
	if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("torn segment still there: %v", err)
	}
}

// corruptSetup writes three committed batches with the given segment size,
// crashes, and returns the config and the path and offset of a record of
// the first batch.
func corruptSetup(t *testing.T) (Config, string, int64) {
	cfg := testConfig(t)
	cfg.CheckpointOnClose = false
	c := mustStart(t, cfg)
	putBatch(t, c, "a1", "a2")
	putBatch(t, c, "b1", "b2")
	putBatch(t, c, "c1", "c2")
	c.abandon()
	// Remove the checkpoint so that replay reads the damaged records.
	requireNoError(t, os.Remove(filepath.Join(cfg.CheckpointDir, ckptName)))
	segs := segmentFiles(t, cfg)
	var path string
	for _, s := range segs {
		if len(recordOffsets(t, s)) > 0 {
			path = s
		}
	}
	offs := recordOffsets(t, path)
	return cfg, path, offs[1]
}

func flipByte(t *testing.T, path string, off int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	requireNoError(t, err)
	b[off] ^= 0xff
	requireNoError(t, os.WriteFile(path, b, 0o644))
}

func TestCorruptionInTheMiddle(t *testing.T) {
	cfg, path, off := corruptSetup(t)
	flipByte(t, path, off+recordHeaderSize+3)
	c, err := New("c1", cfg, nil)
	requireNoError(t, err)
	err = c.Start(context.Background())
	if err == nil {
		c.Stop()
		t.Fatal("Start succeeded on a log corrupt in the middle")
	}
	for _, want := range []string{path, "offset " + itoa(off)} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("error %q does not name %q", err, want)
		}
	}
	// The failed start released the locks: Verify can run.
	d := Dirs{CheckpointDir: cfg.CheckpointDir, DataDirs: cfg.DataDirs}
	rep, err := Verify(d)
	requireNoError(t, err)
	if rep.OK() || len(rep.Problems) != 1 || rep.Problems[0].Offset != off || rep.Problems[0].Torn {
		t.Fatalf("Verify report:\n%s", rep)
	}
	rep, err = Repair(d)
	requireNoError(t, err)
	if len(rep.Cuts) != 1 || rep.Cuts[0].Offset != off || rep.Cuts[0].File != path {
		t.Fatalf("Repair report:\n%s", rep)
	}
	rep, err = Verify(d)
	requireNoError(t, err)
	if !rep.OK() {
		t.Fatalf("Verify after Repair:\n%s", rep)
	}
	// The record before the damage is a PUT of a1 without its commit, so
	// nothing of batch a survives; nothing after the cut does either.
	c = mustStart(t, cfg)
	defer mustStop(t, c)
	requireEqual(t, "after repair", drainAll(t, c), nil)
}

func TestCorruptionInOlderSegment(t *testing.T) {
	cfg := testConfig(t)
	cfg.MaxFileSize = minMaxFileSize
	cfg.CheckpointOnClose = false
	c := mustStart(t, cfg)
	big := strings.Repeat("x", 1500)
	for i := range 6 {
		putBatch(t, c, big+itoa(i))
	}
	c.abandon()
	requireNoError(t, os.Remove(filepath.Join(cfg.CheckpointDir, ckptName)))
	segs := segmentFiles(t, cfg)
	if len(segs) < 3 {
		t.Fatalf("want several segments, got %v", segs)
	}
	first := segs[0]
	offs := recordOffsets(t, first)
	// The very last record of an older segment: still middle damage, since
	// newer segments follow.
	flipByte(t, first, offs[len(offs)-1]+recordHeaderSize)
	c, err := New("c1", cfg, nil)
	requireNoError(t, err)
	if err := c.Start(context.Background()); err == nil || !strings.Contains(err.Error(), first) {
		c.Stop()
		t.Fatalf("Start error = %v, want one naming %s", err, first)
	}
}

func itoa[T int | int64](i T) string { return strconv.FormatInt(int64(i), 10) }

// TestZeroFilledTail: a crash can leave the end of the newest segment
// zero-filled — a filesystem that made the new size durable before the
// data, or preallocated space — which must read as the end of the log (cut
// off, counted as a torn tail), never as damage, while zeros with valid
// records after them are damage.
func TestZeroFilledTail(t *testing.T) {
	for _, tc := range []struct {
		name string
		// damage changes the newest segment, given the offsets of its
		// records; it returns the new contents.
		damage func(b []byte, offs []int64) []byte
		want   []string // nil with wantErr
		// wantErr is set when Start must refuse the log.
		wantErr bool
	}{
		{"zeros appended", func(b []byte, _ []int64) []byte { return append(b, make([]byte, 8192)...) },
			[]string{"a1", "a2", "b1", "c1"}, false},
		{"a few zeros appended", func(b []byte, _ []int64) []byte { return append(b, make([]byte, 5)...) },
			[]string{"a1", "a2", "b1", "c1"}, false},
		{"last batch never written", func(b []byte, offs []int64) []byte {
			clear(b[offs[len(offs)-2]:])
			return b
		}, []string{"a1", "a2", "b1"}, false},
		{"last batch and more never written", func(b []byte, offs []int64) []byte {
			clear(b[offs[len(offs)-2]:])
			return append(b, make([]byte, 4096)...)
		}, []string{"a1", "a2", "b1"}, false},
		{"zeros before valid records", func(b []byte, offs []int64) []byte {
			clear(b[offs[3]:offs[4]])
			return b
		}, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t)
			cfg.CheckpointOnClose = false
			c := mustStart(t, cfg)
			putBatch(t, c, "a1", "a2")
			putBatch(t, c, "b1")
			putBatch(t, c, "c1")
			c.abandon()
			requireNoError(t, os.Remove(filepath.Join(cfg.CheckpointDir, ckptName)))
			segs := segmentFiles(t, cfg)
			last := segs[len(segs)-1]
			offs := recordOffsets(t, last)
			if len(offs) != 7 {
				t.Fatalf("want 7 records in %s, got %d", last, len(offs))
			}
			b, err := os.ReadFile(last)
			requireNoError(t, err)
			requireNoError(t, os.WriteFile(last, tc.damage(b, offs), 0o644))
			c, err = New("c1", cfg, nil)
			requireNoError(t, err)
			err = c.Start(context.Background())
			if tc.wantErr {
				if err == nil {
					c.Stop()
					t.Fatal("Start accepted zeros followed by valid records")
				}
				if !strings.Contains(err.Error(), "offset "+itoa(offs[3])) {
					t.Fatalf("error %q does not name offset %d", err, offs[3])
				}
				return
			}
			requireNoError(t, err)
			defer mustStop(t, c)
			if c.tornTails.Load() != 1 {
				t.Fatalf("torn tail count %d, want 1", c.tornTails.Load())
			}
			requireEqual(t, "events", drainAll(t, c), tc.want)
		})
	}
}
