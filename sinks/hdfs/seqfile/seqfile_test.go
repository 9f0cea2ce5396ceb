package seqfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"testing"
)

type rec struct{ key, value []byte }

func kv(i int, size int) rec {
	v := bytes.Repeat([]byte{byte('a' + i%26)}, size)
	return rec{AppendLongWritable(nil, int64(i)), AppendBytesWritable(nil, v)}
}

func records(n, size int) []rec {
	out := make([]rec, n)
	for i := range out {
		out[i] = kv(i, size+i%7)
	}
	return out
}

// readAll reads every record of a file, failing the test on any error.
func readAll(t *testing.T, b []byte, opts ...ReaderOption) (*Reader, []rec) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(b), opts...)
	if err != nil {
		t.Fatal(err)
	}
	var out []rec
	for {
		k, v, err := r.Next()
		if errors.Is(err, io.EOF) {
			return r, out
		}
		if err != nil {
			t.Fatalf("after %d records: %v", len(out), err)
		}
		out = append(out, rec{k, v})
	}
}

func sameRecords(t *testing.T, got, want []rec) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d records, want %d", len(got), len(want))
	}
	for i := range got {
		if !bytes.Equal(got[i].key, want[i].key) || !bytes.Equal(got[i].value, want[i].value) {
			t.Fatalf("record %d: key %x value %.40x, want key %x value %.40x", i, got[i].key, got[i].value, want[i].key, want[i].value)
		}
	}
}

var layouts = []struct {
	name  string
	comp  Compression
	codec *Codec
}{
	{"none", None, nil},
	{"record-deflate", Record, DefaultCodec},
	{"record-gzip", Record, GzipCodec},
	{"block-deflate", Block, DefaultCodec},
	{"block-gzip", Block, GzipCodec},
}

func TestRoundTrip(t *testing.T) {
	big := []rec{kv(1, 5000), kv(2, 0), {nil, nil}, kv(3, 70000), {AppendText(nil, []byte("k")), AppendText(nil, []byte("v"))}}
	for _, l := range layouts {
		for _, tc := range []struct {
			name    string
			recs    []rec
			syncs   []int // Sync after these many records
			block   int
			meta    []Meta
			textVal bool
		}{
			{name: "empty"},
			{name: "one", recs: records(1, 3)},
			{name: "many small", recs: records(500, 10), syncs: []int{1, 2, 100, 499}},
			{name: "small blocks", recs: records(300, 20), block: 1000},
			{name: "odd sizes", recs: big, syncs: []int{0, 3, 5}, meta: []Meta{{"z", "last"}, {"a", "first"}}},
		} {
			t.Run(l.name+"/"+tc.name, func(t *testing.T) {
				var buf bytes.Buffer
				w, err := NewWriter(&buf, Options{KeyClass: LongWritableClass, ValueClass: BytesWritableClass,
					Compression: l.comp, Codec: l.codec, BlockSize: tc.block, Metadata: tc.meta})
				if err != nil {
					t.Fatal(err)
				}
				for i, r := range tc.recs {
					for _, s := range tc.syncs {
						if s == i {
							if err := w.Sync(); err != nil {
								t.Fatal(err)
							}
						}
					}
					if err := w.Append(r.key, r.value); err != nil {
						t.Fatal(err)
					}
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				if w.Pos() != int64(buf.Len()) {
					t.Fatalf("Pos %d, wrote %d", w.Pos(), buf.Len())
				}
				rd, got := readAll(t, buf.Bytes())
				sameRecords(t, got, tc.recs)
				h := rd.Header()
				if h.KeyClass != LongWritableClass || h.ValueClass != BytesWritableClass || h.Compression != l.comp ||
					h.Sync != w.SyncMarker() || h.Version != 6 {
					t.Fatalf("header %+v", h)
				}
				if l.codec != nil && h.CodecClass != l.codec.Class {
					t.Fatalf("codec %q", h.CodecClass)
				}
				if len(tc.meta) > 0 && (len(h.Metadata) != 2 || h.Metadata[0].Key != "a" || h.Metadata[1].Value != "last") {
					t.Fatalf("metadata not sorted: %+v", h.Metadata)
				}
			})
		}
	}
}

// TestSyncPlacement: uncompressed and record-compressed files carry a sync
// marker before the first record that starts SyncInterval or more bytes
// after the previous marker, and nowhere else; the reader finds exactly the
// markers a byte scan finds.
func TestSyncPlacement(t *testing.T) {
	for _, l := range layouts[:3] {
		t.Run(l.name, func(t *testing.T) {
			var buf bytes.Buffer
			w, err := NewWriter(&buf, Options{KeyClass: LongWritableClass, ValueClass: BytesWritableClass,
				Compression: l.comp, Codec: l.codec, Sync: [16]byte{0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}})
			if err != nil {
				t.Fatal(err)
			}
			var starts []int64 // where each Append began writing
			for i := range 2000 {
				starts = append(starts, w.Pos())
				r := kv(i, 37+i%50)
				if err := w.Append(r.key, r.value); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			rd, got := readAll(t, buf.Bytes())
			if len(got) != 2000 {
				t.Fatalf("%d records", len(got))
			}
			syncs := rd.SyncOffsets()
			if len(syncs) < int(w.Pos()/(SyncInterval+200)) { // records here are under 200 bytes
				t.Fatalf("%d sync markers in %d bytes", len(syncs), w.Pos())
			}
			// Independent scan for escape+marker.
			pattern := append([]byte{0xff, 0xff, 0xff, 0xff}, w.opt.Sync[:]...)
			var scanned []int64
			for off := 0; ; {
				i := bytes.Index(buf.Bytes()[off:], pattern)
				if i < 0 {
					break
				}
				scanned = append(scanned, int64(off+i))
				off += i + 1
			}
			if fmt.Sprint(scanned) != fmt.Sprint(syncs) {
				t.Fatalf("reader saw syncs %v, scan found %v", syncs, scanned)
			}
			// Each marker sits where an Append began, exactly when the
			// distance from the previous one reached the interval.
			last, si := int64(0), 0
			for _, s := range starts {
				due := s-last >= SyncInterval
				if due {
					if si >= len(syncs) || syncs[si] != s {
						t.Fatalf("no sync at %d (previous at %d); syncs %v", s, last, syncs)
					}
					last = s
					si++
				} else if si < len(syncs) && syncs[si] == s {
					t.Fatalf("sync at %d only %d bytes after the previous", s, s-last)
				}
			}
			if si != len(syncs) {
				t.Fatalf("unexpected syncs after %v", syncs[:si])
			}
		})
	}
}

// TestCutAtSync: a file cut at the length reached after any Sync is valid
// and holds exactly the records appended before it.
func TestCutAtSync(t *testing.T) {
	for _, l := range layouts {
		t.Run(l.name, func(t *testing.T) {
			var buf bytes.Buffer
			w, err := NewWriter(&buf, Options{KeyClass: LongWritableClass, ValueClass: TextClass, Compression: l.comp, Codec: l.codec})
			if err != nil {
				t.Fatal(err)
			}
			var all []rec
			type cut struct {
				at int64
				n  int
			}
			var cuts []cut
			for batch := range 8 {
				for i := range 1 + batch*7 {
					r := rec{AppendLongWritable(nil, int64(batch)), AppendText(nil, []byte(strings.Repeat("x", i*13)))}
					all = append(all, r)
					if err := w.Append(r.key, r.value); err != nil {
						t.Fatal(err)
					}
				}
				if err := w.Sync(); err != nil {
					t.Fatal(err)
				}
				cuts = append(cuts, cut{w.Pos(), len(all)})
			}
			for _, c := range cuts {
				_, got := readAll(t, buf.Bytes()[:c.at])
				sameRecords(t, got, all[:c.n])
			}
			// A cut anywhere else is refused, never read as fewer records.
			r, err := NewReader(bytes.NewReader(buf.Bytes()[:cuts[3].at+5]))
			if err != nil {
				t.Fatal(err)
			}
			for {
				_, _, err := r.Next()
				if errors.Is(err, io.EOF) {
					t.Fatal("torn file read to a clean end")
				}
				if err != nil {
					break
				}
			}
		})
	}
}

func TestVLong(t *testing.T) {
	for _, tc := range []struct {
		v    int64
		want string
	}{
		{0, "00"}, {1, "01"}, {127, "7f"}, {-1, "ff"}, {-112, "90"},
		{128, "8f80"}, {255, "8fff"}, {256, "8e0100"}, {-113, "8770"}, {-256, "87ff"}, {-257, "860100"},
		{1000000, "8d0f4240"}, {math.MaxInt32, "8c7fffffff"},
		{math.MaxInt64, "887fffffffffffffff"}, {math.MinInt64, "807fffffffffffffff"},
	} {
		got := fmt.Sprintf("%x", AppendVLong(nil, tc.v))
		if got != tc.want {
			t.Errorf("%d: %s, want %s", tc.v, got, tc.want)
		}
		v, n, err := DecodeVLong(AppendVLong(nil, tc.v))
		if err != nil || v != tc.v || n != len(tc.want)/2 {
			t.Errorf("decode %s: %d %d %v", tc.want, v, n, err)
		}
	}
	if _, _, err := DecodeVInt(AppendVLong(nil, math.MaxInt32+1)); err == nil {
		t.Error("DecodeVInt took a 33-bit value")
	}
	if _, _, err := DecodeVLong([]byte{0x8e, 1}); err == nil {
		t.Error("short vlong accepted")
	}
}

func TestWritables(t *testing.T) {
	if v, err := LongWritable(AppendLongWritable(nil, -5)); err != nil || v != -5 {
		t.Fatal(v, err)
	}
	if b, err := BytesWritable(AppendBytesWritable(nil, []byte("body"))); err != nil || string(b) != "body" {
		t.Fatal(b, err)
	}
	long := strings.Repeat("é", 100) // 200 bytes: a two-byte length
	if b, err := Text(AppendText(nil, []byte(long))); err != nil || string(b) != long {
		t.Fatal(b, err)
	}
	for name, fn := range map[string]func() error{
		"long short":  func() error { _, err := LongWritable([]byte{1, 2}); return err },
		"bytes short": func() error { _, err := BytesWritable([]byte{0, 0, 0, 5, 'a'}); return err },
		"text long":   func() error { _, err := Text([]byte{3, 'a'}); return err },
		"text neg":    func() error { _, err := Text([]byte{0xff}); return err },
	} {
		if fn() == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestReaderErrors(t *testing.T) {
	var good bytes.Buffer
	w, err := NewWriter(&good, Options{KeyClass: LongWritableClass, ValueClass: BytesWritableClass, Sync: [16]byte{1}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		r := kv(i, 40)
		_ = w.Append(r.key, r.value)
	}
	_ = w.Close()
	file := good.Bytes()
	firstSync := bytes.Index(file[100:], append([]byte{0xff, 0xff, 0xff, 0xff}, 1)) + 100
	mod := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), file...)) }
	for _, tc := range []struct {
		name, want string
		file       []byte
	}{
		{"empty", "magic", nil},
		{"magic", "not a SequenceFile", mod(func(b []byte) []byte { b[0] = 'X'; return b })},
		{"version", "version 5", mod(func(b []byte) []byte { b[3] = 5; return b })},
		{"header cut", "key class", file[:10]},
		{"bad sync", "sync marker", mod(func(b []byte) []byte { b[firstSync+6] ^= 1; return b })},
		{"torn record", "unexpected EOF", file[:len(file)-3]},
		{"negative length", "negative record length", mod(func(b []byte) []byte { b[firstSync] = 0x80; return b })},
		{"block without compression", "block compression set", mod(func(b []byte) []byte {
			i := 4 + 1 + len(LongWritableClass) + 1 + len(BytesWritableClass)
			b[i+1] = 1
			return b
		})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(tc.file))
			for err == nil {
				_, _, err = r.Next()
			}
			if errors.Is(err, io.EOF) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestDecompressionLimit(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Options{KeyClass: LongWritableClass, ValueClass: BytesWritableClass, Compression: Block, Codec: GzipCodec})
	if err != nil {
		t.Fatal(err)
	}
	r := kv(0, 1<<20)
	_ = w.Append(r.key, r.value)
	_ = w.Close()
	rd, err := NewReader(bytes.NewReader(buf.Bytes()), WithMaxDecompressed(1<<16))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := rd.Next(); err == nil || !strings.Contains(err.Error(), "more than 65536") {
		t.Fatalf("error %v", err)
	}
}

func TestWriterErrors(t *testing.T) {
	if _, err := NewWriter(io.Discard, Options{KeyClass: "k"}); err == nil {
		t.Error("no value class accepted")
	}
	if _, err := NewWriter(io.Discard, Options{KeyClass: "k", ValueClass: "v", Compression: Block}); err == nil {
		t.Error("block without codec accepted")
	}
	fw := &failWriter{after: 1}
	w, err := NewWriter(fw, Options{KeyClass: "k", ValueClass: "v"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Append([]byte("a"), []byte("b")); err == nil {
		t.Fatal("write error lost")
	}
	if err := w.Sync(); err == nil {
		t.Fatal("error not sticky")
	}
	for _, s := range []string{"none", "Record", "BLOCK"} {
		if _, err := ParseCompression(s); err != nil {
			t.Error(err)
		}
	}
	if _, err := ParseCompression("lz4"); err == nil {
		t.Error("lz4 accepted")
	}
}

type failWriter struct{ after int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.after == 0 {
		return 0, errors.New("disk full")
	}
	f.after--
	return len(p), nil
}
