package hdfs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ampsflume/flume"
	"ampsflume/sinks/hdfs/fsys"
	"ampsflume/sinks/hdfs/seqfile"
)

// newSeqHarness is newHarness without its hdfs.fileType = DataStream: the
// sink writes whatever the keys (or Flume's default) say.
func newSeqHarness(t *testing.T, kv map[string]string, mod func(*Config)) *harness {
	t.Helper()
	h := &harness{t: t, dir: t.TempDir(), clock: &fakeClock{t: epoch}, ch: newChannel(t)}
	h.kv = map[string]string{"hdfs.path": h.dir, "hdfs.useLocalTimeStamp": "true"}
	for k, v := range kv {
		h.kv[k] = strings.ReplaceAll(v, "$DIR", h.dir)
	}
	h.sink = h.build(mod)
	return h
}

type seqRecord struct {
	ts   int64
	body string
}

// readSeq reads a whole SequenceFile written by the sink, failing on
// anything but a clean end.
func readSeq(t *testing.T, h *harness, rel string) (seqfile.Header, []seqRecord) {
	t.Helper()
	r, err := seqfile.NewReader(strings.NewReader(h.read(rel)))
	if err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	hdr := r.Header()
	var out []seqRecord
	for {
		k, v, err := r.Next()
		if errors.Is(err, io.EOF) {
			return hdr, out
		}
		if err != nil {
			t.Fatalf("%s: record %d: %v", rel, len(out), err)
		}
		ts, err := seqfile.LongWritable(k)
		if err != nil {
			t.Fatalf("%s: key: %v", rel, err)
		}
		var body []byte
		switch hdr.ValueClass {
		case seqfile.BytesWritableClass:
			body, err = seqfile.BytesWritable(v)
		case seqfile.TextClass:
			body, err = seqfile.Text(v)
		default:
			t.Fatalf("%s: value class %q", rel, hdr.ValueClass)
		}
		if err != nil {
			t.Fatalf("%s: value: %v", rel, err)
		}
		out = append(out, seqRecord{ts, string(body)})
	}
}

func bodies(recs []seqRecord) string {
	var b strings.Builder
	for _, r := range recs {
		b.WriteString(r.body + ",")
	}
	return b.String()
}

// TestSequenceFileByDefault: a config that does not set hdfs.fileType
// writes SequenceFiles, as Flume does: LongWritable timestamp keys (the
// header's, else the sink's clock) and BytesWritable bodies.
func TestSequenceFileByDefault(t *testing.T) {
	h := newSeqHarness(t, noRolls(map[string]string{"hdfs.batchSize": "3", "hdfs.rollCount": "4"}), nil)
	if h.sink.cfg.Sequence == nil || h.sink.cfg.Sequence.Text || h.sink.cfg.Codec != "" {
		t.Fatalf("config %+v", h.sink.cfg.Sequence)
	}
	clockMS := epoch.UnixMilli()
	events := []*flume.Event{
		ev("one", "timestamp", "1700000000123"),
		ev("two"),
		ev("three", "timestamp", "not a number"),
		ev(""),
		ev("\x00\xffbinary\n", "timestamp", " 42 "),
		ev("six", "timestamp", "-5"),
	}
	putEvents(t, h.ch, events...)
	h.mustProcess()
	h.mustProcess()
	if err := h.sink.Stop(); err != nil {
		t.Fatal(err)
	}
	files := h.files()
	equal(t, "files", files, []string{"FlumeData." + ms, "FlumeData.1709634030001"})
	var all []seqRecord
	for _, f := range files {
		hdr, recs := readSeq(t, h, f)
		if hdr.KeyClass != seqfile.LongWritableClass || hdr.ValueClass != seqfile.BytesWritableClass ||
			hdr.Compression != seqfile.None || len(hdr.Metadata) != 0 {
			t.Fatalf("%s: header %+v", f, hdr)
		}
		all = append(all, recs...)
	}
	want := []seqRecord{{1700000000123, "one"}, {clockMS, "two"}, {clockMS, "three"}, {clockMS, ""},
		{42, "\x00\xffbinary\n"}, {-5, "six"}}
	equal(t, "records", all, want)
}

func TestSequenceFileText(t *testing.T) {
	h := newSeqHarness(t, noRolls(map[string]string{"hdfs.fileType": "SequenceFile", "hdfs.writeFormat": "Text"}), nil)
	putEvents(t, h.ch, ev("héllo", "timestamp", "7"), ev(strings.Repeat("long ", 100), "timestamp", "8"))
	h.mustProcess()
	if err := h.sink.Stop(); err != nil {
		t.Fatal(err)
	}
	hdr, recs := readSeq(t, h, "FlumeData."+ms)
	if hdr.ValueClass != seqfile.TextClass {
		t.Fatalf("value class %q", hdr.ValueClass)
	}
	equal(t, "records", recs, []seqRecord{{7, "héllo"}, {8, strings.Repeat("long ", 100)}})
}

// TestSequenceFileCompressed: with hdfs.codeC the records are compressed by
// block (Flume's choice) or by record, the codec is named in the header by
// its Hadoop class, and the file takes the codec's extension as in Flume.
func TestSequenceFileCompressed(t *testing.T) {
	for _, tc := range []struct {
		codec, ctype, ext, class string
		comp                     seqfile.Compression
	}{
		{"gzip", "", ".gz", seqfile.GzipCodec.Class, seqfile.Block},
		{"org.apache.hadoop.io.compress.DefaultCodec", "", ".deflate", seqfile.DefaultCodec.Class, seqfile.Block},
		{"deflate", "RECORD", ".deflate", seqfile.DefaultCodec.Class, seqfile.Record},
		{"GzipCodec", "record", ".gz", seqfile.GzipCodec.Class, seqfile.Record},
	} {
		t.Run(tc.codec+"/"+tc.ctype, func(t *testing.T) {
			kv := noRolls(map[string]string{"hdfs.codeC": tc.codec, "hdfs.batchSize": "10"})
			if tc.ctype != "" {
				kv["hdfs.compressionType"] = tc.ctype
			}
			h := newSeqHarness(t, kv, nil)
			var want []seqRecord
			for batch := range 3 {
				events := evs("b"+itoa(batch)+"-", 10)
				for i, e := range events {
					e.Headers["timestamp"] = itoa(batch*100 + i)
					want = append(want, seqRecord{int64(batch*100 + i), string(e.Body)})
				}
				putEvents(t, h.ch, events...)
				h.mustProcess()
			}
			if err := h.sink.Stop(); err != nil {
				t.Fatal(err)
			}
			name := "FlumeData." + ms + tc.ext
			equal(t, "files", h.files(), []string{name})
			hdr, recs := readSeq(t, h, name)
			if hdr.Compression != tc.comp || hdr.CodecClass != tc.class {
				t.Fatalf("header %+v", hdr)
			}
			equal(t, "records", recs, want)
		})
	}
}

// TestSequenceFileFailedBatch: a failed batch (a write torn half way, or a
// commit refused after the batch was flushed) is cut back to the end of the
// last committed batch, which is a record boundary: every file reads to a
// clean end and holds each event exactly once after the retry.
func TestSequenceFileFailedBatch(t *testing.T) {
	for _, layout := range []map[string]string{
		{},
		{"hdfs.writeFormat": "Text"},
		{"hdfs.codeC": "gzip"},
		{"hdfs.codeC": "deflate", "hdfs.compressionType": "RECORD"},
	} {
		for _, fault := range []string{"torn write", "commit"} {
			t.Run(fmt.Sprint(layout)+"/"+fault, func(t *testing.T) {
				ffs := &faultFS{FS: fsys.Local{}, partialWrites: true}
				kv := noRolls(map[string]string{"hdfs.batchSize": "40"})
				for k, v := range layout {
					kv[k] = v
				}
				h := newSeqHarness(t, kv, func(c *Config) { c.FS = ffs })
				// Bodies large enough that batches cross sync intervals.
				big := func(prefix string) []*flume.Event {
					out := evs(prefix, 40)
					for _, e := range out {
						e.Body = append(e.Body, bytes.Repeat([]byte{'.'}, 90)...)
					}
					return out
				}
				putEvents(t, h.ch, big("a")...)
				h.mustProcess()
				putEvents(t, h.ch, big("b")...)
				if fault == "commit" {
					h.sink.channel = &failCommit{Channel: h.ch}
				} else {
					ffs.set(func(f *faultFS) { f.failWrite = 1 })
				}
				if _, err := h.process(); err == nil {
					t.Fatal("no error")
				}
				h.sink.channel = h.ch
				if h.ch.Size() != 40 {
					t.Fatalf("channel size %d", h.ch.Size())
				}
				complete, inUse := h.split()
				if len(inUse) != 0 || len(complete) != 1 {
					t.Fatalf("files %v %v", complete, inUse)
				}
				_, first := readSeq(t, h, complete[0])
				if len(first) != 40 {
					t.Fatalf("cut file holds %d records", len(first))
				}
				h.mustProcess()
				if err := h.sink.Stop(); err != nil {
					t.Fatal(err)
				}
				var got []seqRecord
				for _, f := range h.files() {
					_, recs := readSeq(t, h, f)
					got = append(got, recs...)
				}
				var want strings.Builder
				for _, e := range append(big("a"), big("b")...) {
					want.WriteString(string(e.Body) + ",")
				}
				if bodies(got) != want.String() {
					t.Fatalf("bodies %q\nwant %q", bodies(got), want.String())
				}
			})
		}
	}
}

// TestSequenceFileRecovered: a file a crashed run left in use ends on a
// batch boundary and reads as a SequenceFile once renamed at the next start.
func TestSequenceFileRecovered(t *testing.T) {
	h := newSeqHarness(t, noRolls(map[string]string{"hdfs.codeC": "gzip"}), nil)
	putEvents(t, h.ch, evs("a", 3)...)
	h.mustProcess()
	putEvents(t, h.ch, evs("b", 2)...)
	h.mustProcess()
	equal(t, "before", h.files(), []string{"FlumeData." + ms + ".gz.tmp"})
	h.build(nil) // the first sink never closes its file
	equal(t, "after restart", h.files(), []string{"FlumeData." + ms + ".gz"})
	_, recs := readSeq(t, h, "FlumeData."+ms+".gz")
	if got := bodies(recs); got != "a0,a1,a2,b0,b1," {
		t.Fatalf("bodies %q", got)
	}
}

func TestSequenceConfigInNew(t *testing.T) {
	base := func() Config {
		cfg, err := ParseConfig("k", flume.MapContext(`sink "k"`, map[string]string{"hdfs.path": filepath.Join(t.TempDir(), "x")}))
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	for name, mod := range map[string]func(*Config){
		"block without codec":  func(c *Config) { c.Sequence.Compression = seqfile.Block },
		"zstd":                 func(c *Config) { c.Codec, c.Sequence.Compression = "zstd", seqfile.Block },
		"codec without layout": func(c *Config) { c.Codec = "gzip" },
	} {
		cfg := base()
		mod(&cfg)
		if _, err := New("k", cfg, nil, nil); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestSequenceFileDedupeRecovery: with hdfs.dedupe.header, a crash after a
// batch reached a SequenceFile but before it was recorded is cut back to
// the recorded length at start, which ends on a block: every file reads to
// a clean end and each event is there once.
func TestSequenceFileDedupeRecovery(t *testing.T) {
	for _, codec := range []string{"", "gzip"} {
		t.Run("codec="+codec, func(t *testing.T) {
			kv := dedupeKV()
			if codec != "" {
				kv["hdfs.codeC"] = codec
			}
			h := newSeqHarness(t, kv, nil)
			putEvents(t, h.ch, bmEvents(7, 1, 5)...)
			h.mustProcess()
			_, inUse := h.split()
			if len(inUse) != 2 {
				t.Fatalf("in-use files %v", inUse)
			}
			listed := filepath.Join(h.dir, inUse[0])
			f, err := os.OpenFile(listed, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = f.Write([]byte{0xff, 0xff, 0xff, 0xff, 1, 2, 3}) // a torn, unrecorded batch
			_ = f.Close()
			h.sink.mu.Lock()
			h.sink.buckets = map[string]*bucket{} // forget the open files, as a crash would
			h.sink.mu.Unlock()
			h.clock.Advance(1e9)
			h.sink = h.build(nil)
			putEvents(t, h.ch, bmEvents(7, 3, 9)...)
			h.mustProcess()
			if err := h.sink.Stop(); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range h.files() {
				if filepath.Base(f) == StateFile {
					continue
				}
				_, recs := readSeq(t, h, f)
				for _, r := range recs {
					got = append(got, r.body)
				}
			}
			sortStrings(got)
			equal(t, "bodies", got, wantLines(7, 1, 9))
		})
	}
}
