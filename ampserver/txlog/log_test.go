package txlog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func noErr(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func open(t testing.TB, dir string, segSize int64) *Log {
	t.Helper()
	l, err := Open(Options{Dir: dir, SegmentSize: segSize, FlushInterval: -1})
	noErr(t, err)
	t.Cleanup(func() { l.Close() })
	return l
}

var t0 = time.Date(2024, 3, 21, 22, 9, 52, 0, time.UTC)

func rec(i int, client string) *Record {
	return &Record{
		Publisher:  PublisherID(client),
		Timestamp:  t0.Add(time.Duration(i) * time.Second).UnixMicro(),
		Command:    Publish,
		Topic:      "Orders",
		ClientName: client,
		ClientSeq:  uint64(i),
		SowKey:     fmt.Sprint(i % 7),
		Data:       []byte(fmt.Sprintf(`{"order_key":%d}`, i)),
	}
}

func appendN(t testing.TB, l *Log, from, to int, client string) {
	t.Helper()
	for i := from; i < to; i++ {
		if _, err := l.Append(rec(i, client)); err != nil {
			t.Fatal(err)
		}
	}
}

func readAll(t testing.TB, l *Log, from uint64) []Record {
	t.Helper()
	r := l.NewReader(from)
	defer r.Close()
	var out []Record
	for {
		rec, err := r.Next(^uint64(0))
		if errors.Is(err, io.EOF) {
			return out
		}
		noErr(t, err)
		c := *rec
		c.Data = bytes.Clone(rec.Data)
		out = append(out, c)
	}
}

func TestAppendReadAcrossSegmentsAndReopen(t *testing.T) {
	dir := t.TempDir()
	l := open(t, dir, 1024) // small segments: many rolls
	appendN(t, l, 1, 301, "pub-a")
	recs := readAll(t, l, 0)
	if len(recs) != 300 {
		t.Fatalf("read %d records, want 300", len(recs))
	}
	for i, r := range recs {
		want := rec(i+1, "pub-a")
		if r.Seq != uint64(i+1) || string(r.Data) != string(want.Data) || r.SowKey != want.SowKey || r.ClientSeq != want.ClientSeq || r.Timestamp != want.Timestamp {
			t.Fatalf("record %d = %+v", i, r)
		}
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "*"+segmentExt))
	if len(segs) < 10 {
		t.Fatalf("%d segments, want many", len(segs))
	}
	noErr(t, l.Close())

	l2 := open(t, dir, 1024)
	if got := l2.NextSeq(); got != 301 {
		t.Fatalf("NextSeq after reopen = %d, want 301", got)
	}
	if got := l2.ClientSeqs()["pub-a"]; got != 300 {
		t.Fatalf("client seq = %d, want 300", got)
	}
	appendN(t, l2, 301, 311, "pub-b")
	recs = readAll(t, l2, 295)
	if len(recs) != 16 || recs[0].Seq != 295 || recs[15].Seq != 310 || recs[15].ClientName != "pub-b" {
		t.Fatalf("read from 295: %d records, first %d", len(recs), recs[0].Seq)
	}
}

func TestReaderFollowsAppends(t *testing.T) {
	l := open(t, t.TempDir(), 4096)
	r := l.NewReader(1)
	defer r.Close()
	if _, err := r.Next(^uint64(0)); !errors.Is(err, io.EOF) {
		t.Fatalf("empty log: %v", err)
	}
	appendN(t, l, 1, 50, "a")
	for i := 1; i < 50; i++ {
		rec, err := r.Next(^uint64(0))
		noErr(t, err)
		if rec.Seq != uint64(i) {
			t.Fatalf("seq %d, want %d", rec.Seq, i)
		}
	}
	appendN(t, l, 50, 60, "a")
	got := 0
	for {
		_, err := r.Next(55)
		if errors.Is(err, io.EOF) {
			break
		}
		noErr(t, err)
		got++
	}
	if got != 5 {
		t.Fatalf("read %d below limit 55, want 5", got)
	}
}

func TestConcurrentAppendAndRead(t *testing.T) {
	l := open(t, t.TempDir(), 8192)
	const n = 3000
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		appendN(t, l, 1, n+1, "a")
	}()
	r := l.NewReader(1)
	defer r.Close()
	deadline := time.Now().Add(10 * time.Second)
	for next := uint64(1); next <= n; {
		rec, err := r.Next(n + 1)
		if errors.Is(err, io.EOF) {
			if time.Now().After(deadline) {
				t.Fatal("reader stalled")
			}
			time.Sleep(time.Millisecond)
			continue
		}
		noErr(t, err)
		if rec.Seq != next {
			t.Fatalf("seq %d, want %d", rec.Seq, next)
		}
		next++
	}
	wg.Wait()
}

func TestDurable(t *testing.T) {
	var mu sync.Mutex
	var seen []uint64
	l, err := Open(Options{Dir: t.TempDir(), FlushInterval: -1, OnDurable: func(s uint64) {
		mu.Lock()
		seen = append(seen, s)
		mu.Unlock()
	}})
	noErr(t, err)
	defer l.Close()
	appendN(t, l, 1, 4, "a")
	if l.Durable() != 0 {
		t.Fatalf("durable before sync = %d", l.Durable())
	}
	noErr(t, l.Sync())
	appendN(t, l, 4, 6, "a")
	noErr(t, l.Sync())
	noErr(t, l.Sync()) // nothing new: no callback
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(seen) != "[3 5]" {
		t.Fatalf("OnDurable calls %v, want [3 5]", seen)
	}
}

func TestFlushLoop(t *testing.T) {
	got := make(chan uint64, 10)
	l, err := Open(Options{Dir: t.TempDir(), FlushInterval: time.Millisecond, OnDurable: func(s uint64) { got <- s }})
	noErr(t, err)
	appendN(t, l, 1, 3, "a")
	select {
	case s := <-got:
		if s != 2 {
			t.Fatalf("durable %d, want 2", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the flush loop never synced")
	}
	noErr(t, l.Close())
}

// TestTornTail cuts the last segment at every byte offset: reopening keeps
// exactly the whole records before the cut and appends continue after them.
func TestTornTail(t *testing.T) {
	src := t.TempDir()
	l := open(t, src, 1<<20)
	appendN(t, l, 1, 6, "a")
	noErr(t, l.Close())
	path := filepath.Join(src, segmentName(1))
	full, err := os.ReadFile(path)
	noErr(t, err)
	// Record boundaries.
	var ends []int
	for off := 0; off < len(full); {
		var r Record
		n, err := decodeFrame(full[off:], &r)
		noErr(t, err)
		off += n
		ends = append(ends, off)
	}
	for cut := 0; cut <= len(full); cut++ {
		dir := t.TempDir()
		noErr(t, os.WriteFile(filepath.Join(dir, segmentName(1)), full[:cut], 0o644))
		whole := sort.SearchInts(ends, cut+1) // records ending at or before cut
		l, err := Open(Options{Dir: dir, FlushInterval: -1})
		if err != nil {
			t.Fatalf("cut %d: %v", cut, err)
		}
		if got := l.NextSeq(); got != uint64(whole+1) {
			t.Fatalf("cut %d: NextSeq %d, want %d", cut, got, whole+1)
		}
		if _, err := l.Append(rec(99, "b")); err != nil {
			t.Fatalf("cut %d: %v", cut, err)
		}
		recs := readAll(t, l, 1)
		if len(recs) != whole+1 || recs[whole].ClientName != "b" {
			t.Fatalf("cut %d: %d records after append, want %d", cut, len(recs), whole+1)
		}
		noErr(t, l.Close())
	}
}

func TestCorruptionBeforeTheTailIsAnError(t *testing.T) {
	dir := t.TempDir()
	l := open(t, dir, 512)
	appendN(t, l, 1, 40, "a")
	noErr(t, l.Close())
	path := filepath.Join(dir, segmentName(1))
	b, err := os.ReadFile(path)
	noErr(t, err)
	b[20] ^= 0xff
	noErr(t, os.WriteFile(path, b, 0o644))
	if _, err := Open(Options{Dir: dir, FlushInterval: -1}); err == nil {
		t.Fatal("a corrupt record in an earlier segment was accepted")
	}
}

func TestMissingSegmentIsAnError(t *testing.T) {
	dir := t.TempDir()
	l := open(t, dir, 512)
	appendN(t, l, 1, 40, "a")
	noErr(t, l.Close())
	segs, _ := filepath.Glob(filepath.Join(dir, "*"+segmentExt))
	sort.Strings(segs)
	noErr(t, os.Remove(segs[1]))
	if _, err := Open(Options{Dir: dir, FlushInterval: -1}); err == nil {
		t.Fatal("a gap between segments was accepted")
	}
}

func TestResolve(t *testing.T) {
	l := open(t, t.TempDir(), 1024)
	// seq 1..10 by a (ts t0+1s..), 11..20 by b.
	appendN(t, l, 1, 11, "a")
	appendN(t, l, 11, 21, "b")
	a, b := PublisherID("a"), PublisherID("b")
	ts := func(i int) string { return t0.Add(time.Duration(i) * time.Second).Format("20060102T150405Z") }
	tests := []struct {
		name   string
		spec   string
		seq    uint64
		found  bool
		floors string
		err    bool
	}{
		{"epoch", "0", 1, true, "map[]", false},
		{"now", "0|1|", 21, true, "map[]", false},
		{"bookmark", FormatBookmark(a, 4), 5, true, fmt.Sprint(map[uint64]uint64{a: 4}), false},
		{"last bookmark", FormatBookmark(b, 20), 21, true, fmt.Sprint(map[uint64]uint64{b: 20}), false},
		{"wrong publisher", FormatBookmark(b, 4), 21, false, "map[]", false},
		{"past the end", FormatBookmark(a, 99), 21, false, "map[]", false},
		{"list", FormatBookmark(b, 15) + "," + FormatBookmark(a, 8), 9, true, fmt.Sprint(map[uint64]uint64{a: 8, b: 15}), false},
		{"list with unknown", FormatBookmark(a, 99) + "," + FormatBookmark(a, 3), 4, true, fmt.Sprint(map[uint64]uint64{a: 3}), false},
		{"timestamp", ts(12), 12, true, "map[]", false},
		{"timestamp with fraction", t0.Add(11500 * time.Millisecond).Format("20060102T150405.000000Z"), 12, true, "map[]", false},
		{"timestamp before", "20000101T000000Z", 1, true, "map[]", false},
		{"timestamp future", "20990101T000000", 21, true, "map[]", false},
		{"garbage", "abc", 0, false, "", true},
		{"zero publisher", "0|5|", 0, false, "", true},
		{"recent", "recent", 0, false, "", true},
		{"bad timestamp", "20240101X000000Z", 0, false, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := l.Resolve(tt.spec)
			if tt.err {
				if !errors.Is(err, ErrInvalidBookmark) {
					t.Fatalf("err %v, want ErrInvalidBookmark", err)
				}
				return
			}
			noErr(t, err)
			floors := st.Floors
			if floors == nil {
				floors = map[uint64]uint64{}
			}
			if st.Seq != tt.seq || st.Found != tt.found || fmt.Sprint(floors) != tt.floors {
				t.Fatalf("Resolve(%q) = %+v, want seq %d found %v floors %s", tt.spec, st, tt.seq, tt.found, tt.floors)
			}
		})
	}
	// The list skips, per publisher, what the subscriber has.
	st, err := l.Resolve(FormatBookmark(b, 15) + "," + FormatBookmark(a, 8))
	noErr(t, err)
	var got []uint64
	for _, r := range readAll(t, l, st.Seq) {
		if !st.Skip(&r) {
			got = append(got, r.Seq)
		}
	}
	if fmt.Sprint(got) != "[9 10 16 17 18 19 20]" {
		t.Fatalf("replayed %v", got)
	}
}

func TestAppendAfterCloseFails(t *testing.T) {
	l, err := Open(Options{Dir: t.TempDir(), FlushInterval: -1})
	noErr(t, err)
	noErr(t, l.Close())
	if _, err := l.Append(rec(1, "a")); !errors.Is(err, ErrClosed) {
		t.Fatalf("append after close: %v", err)
	}
}

func FuzzDecodeFrame(f *testing.F) {
	f.Add(appendRecord(nil, rec(1, "a")))
	f.Add(appendRecord(appendRecord(nil, rec(1, "a")), &Record{Seq: 2, Command: SowDelete, Topic: "t", SowKey: "k"}))
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Record
		for len(b) > 0 {
			n, err := decodeFrame(b, &r)
			if err != nil {
				return
			}
			if n <= 0 || n > len(b) {
				t.Fatalf("frame size %d of %d bytes", n, len(b))
			}
			// A decoded record survives an encode/decode round trip.
			var r2 Record
			if _, err := decodeFrame(appendRecord(nil, &r), &r2); err != nil {
				t.Fatalf("re-encoded record: %v", err)
			}
			if r2.Seq != r.Seq || r2.Topic != r.Topic || r2.ClientName != r.ClientName || r2.SowKey != r.SowKey ||
				r2.Publisher != r.Publisher || r2.Timestamp != r.Timestamp || r2.ClientSeq != r.ClientSeq || !bytes.Equal(r2.Data, r.Data) {
				t.Fatalf("round trip changed the record")
			}
			b = b[n:]
		}
	})
}

func BenchmarkReplay(b *testing.B) {
	l := open(b, b.TempDir(), 64<<20)
	const n = 200000
	r := rec(1, "bench")
	r.Data = bytes.Repeat([]byte("x"), 100)
	for i := 0; i < n; i++ {
		if _, err := l.Append(r); err != nil {
			b.Fatal(err)
		}
	}
	noErr(b, l.Sync())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rd := l.NewReader(1)
		c := 0
		for {
			_, err := rd.Next(^uint64(0))
			if err != nil {
				break
			}
			c++
		}
		rd.Close()
		if c != n {
			b.Fatalf("read %d", c)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// bigRec is rec(i) with a body of size bytes.
func bigRec(i int, size int) *Record {
	r := rec(i, "big")
	r.Data = bytes.Repeat([]byte{byte('a' + i%26)}, size)
	return r
}

// TestReopenReadsInChunks reopens a segment larger than the scan's read
// chunk, with records across chunk boundaries and one record larger than a
// chunk: every record is recovered, the index locates records, torn tails
// inside the large record or across a chunk boundary are truncated, and
// the recovery allocates far less than the segment's size.
func TestReopenReadsInChunks(t *testing.T) {
	sizes := []int{100, 3000, scanChunk + 1234, 7, 50_000}
	src := t.TempDir()
	l := open(t, src, 1<<30)
	var ends []int64
	var off int64
	for i := 1; off < 6*scanChunk; i++ {
		r := bigRec(i, sizes[i%len(sizes)])
		_, err := l.Append(r)
		noErr(t, err)
		off += int64(len(appendRecord(nil, r)))
		ends = append(ends, off)
	}
	noErr(t, l.Close())
	n := len(ends)
	path := filepath.Join(src, segmentName(1))

	check := func(t *testing.T, dir string, whole int) {
		t.Helper()
		l := open(t, dir, 1<<30)
		if got := l.NextSeq(); got != uint64(whole+1) {
			t.Fatalf("NextSeq %d, want %d", got, whole+1)
		}
		for _, from := range []uint64{1, uint64(whole/2 + 1), uint64(whole)} {
			recs := readAll(t, l, from)
			if len(recs) != whole-int(from)+1 {
				t.Fatalf("from %d: %d records, want %d", from, len(recs), whole-int(from)+1)
			}
			for _, r := range recs {
				want := bigRec(int(r.Seq), sizes[int(r.Seq)%len(sizes)])
				if !bytes.Equal(r.Data, want.Data) || r.ClientSeq != want.ClientSeq {
					t.Fatalf("record %d differs", r.Seq)
				}
			}
		}
		noErr(t, l.Close())
	}

	t.Run("whole", func(t *testing.T) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		l, err := Open(Options{Dir: src, FlushInterval: -1})
		runtime.ReadMemStats(&after)
		noErr(t, err)
		noErr(t, l.Close())
		if got := after.TotalAlloc - before.TotalAlloc; got > 4*scanChunk { // a chunk, and one grown for the record larger than a chunk
			t.Errorf("opening a %d-byte segment allocated %d bytes", ends[n-1], got)
		}
		check(t, src, n)
	})
	full, err := os.ReadFile(path)
	noErr(t, err)
	big := 2 // the first record larger than a chunk
	for i := 1; i <= n; i++ {
		if sizes[i%len(sizes)] > scanChunk {
			big = i
			break
		}
	}
	cuts := []int64{
		ends[big-2] + 3,           // inside the large record's header
		ends[big-2] + scanChunk/2, // inside its body
		ends[big-1] - 1,           // its last byte missing
		scanChunk - 1, scanChunk, scanChunk + 1,
		ends[n-1] - 1,
	}
	for _, cut := range cuts {
		t.Run(fmt.Sprintf("cut at %d", cut), func(t *testing.T) {
			dir := t.TempDir()
			noErr(t, os.WriteFile(filepath.Join(dir, segmentName(1)), full[:cut], 0o644))
			whole := sort.Search(n, func(i int) bool { return ends[i] > cut })
			check(t, dir, whole)
			fi, err := os.Stat(filepath.Join(dir, segmentName(1)))
			noErr(t, err)
			if whole > 0 && fi.Size() != ends[whole-1] {
				t.Fatalf("segment truncated to %d, want %d", fi.Size(), ends[whole-1])
			}
		})
	}
}

// FuzzRecoverSegment opens a journal whose only segment holds arbitrary
// bytes: Open keeps the longest prefix of well-formed, consecutive records
// (truncating the file there), and the records it keeps read back.
func FuzzRecoverSegment(f *testing.F) {
	var valid []byte
	for i := 1; i <= 4; i++ {
		r := rec(i, "a")
		r.Seq = uint64(i)
		valid = appendRecord(valid, r)
	}
	f.Add(valid)
	f.Add(valid[:len(valid)-3])
	f.Add(append(bytes.Clone(valid), 0xff, 0xff, 0xff, 0x7f, 1, 2, 3, 4))
	corrupt := bytes.Clone(valid)
	corrupt[len(corrupt)/2] ^= 0x40
	f.Add(corrupt)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		// The records a reader of the whole input would accept.
		var ends []int
		for off, want := 0, uint64(1); off < len(data); want++ {
			var r Record
			n, err := decodeFrame(data[off:], &r)
			if err != nil || r.Seq != want {
				break
			}
			off += n
			ends = append(ends, off)
		}
		keep := 0
		if len(ends) > 0 {
			keep = ends[len(ends)-1]
		}
		dir := t.TempDir()
		path := filepath.Join(dir, segmentName(1))
		noErr(t, os.WriteFile(path, data, 0o644))
		l, err := Open(Options{Dir: dir, FlushInterval: -1})
		noErr(t, err)
		defer l.Close()
		if got := l.NextSeq(); got != uint64(len(ends)+1) {
			t.Fatalf("NextSeq %d, want %d", got, len(ends)+1)
		}
		fi, err := os.Stat(path)
		noErr(t, err)
		if fi.Size() != int64(keep) {
			t.Fatalf("segment is %d bytes, want %d", fi.Size(), keep)
		}
		if got := readAll(t, l, 1); len(got) != len(ends) {
			t.Fatalf("read %d records, want %d", len(got), len(ends))
		}
	})
}
