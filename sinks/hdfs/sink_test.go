package hdfs

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hamba/avro/v2/ocf"

	"ampsflume/flume"
	"ampsflume/serializer"
	"ampsflume/sinks/hdfs/fsys"
)

const ms = "1709634030000" // epoch in milliseconds: the first file counter

func noRolls(kv map[string]string) map[string]string {
	base := map[string]string{"hdfs.rollInterval": "0", "hdfs.rollSize": "0", "hdfs.rollCount": "0"}
	for k, v := range kv {
		base[k] = v
	}
	return base
}

func TestRollCount(t *testing.T) {
	h := newHarness(t, noRolls(map[string]string{"hdfs.rollCount": "10"}), nil)
	putEvents(t, h.ch, evs("e", 25)...)
	st, err := h.process()
	if err != nil || st != flume.Backoff {
		t.Fatalf("status %v err %v", st, err)
	}
	equal(t, "files", h.files(), []string{"FlumeData." + ms, "FlumeData.1709634030001", "FlumeData.1709634030002.tmp"})
	if got := h.read("FlumeData." + ms); got != "e0\ne1\ne2\ne3\ne4\ne5\ne6\ne7\ne8\ne9\n" {
		t.Fatalf("first file %q", got)
	}
	if got := h.read("FlumeData.1709634030002.tmp"); got != "e20\ne21\ne22\ne23\ne24\n" {
		t.Fatalf("in-use file %q", got)
	}
	// Flume checks before appending: a full file waits for the next event.
	putEvents(t, h.ch, evs("f", 6)...)
	h.mustProcess()
	equal(t, "files", h.files(), []string{"FlumeData." + ms, "FlumeData.1709634030001", "FlumeData.1709634030002", "FlumeData.1709634030003.tmp"})
	if err := h.sink.Stop(); err != nil {
		t.Fatal(err)
	}
	equal(t, "after stop", h.files(), []string{"FlumeData." + ms, "FlumeData.1709634030001", "FlumeData.1709634030002", "FlumeData.1709634030003"})
	c := h.sink.Counter()
	if c.EventDrainSuccess.Load() != 31 || c.ConnectionCreated.Load() != 4 || c.ConnectionClosed.Load() != 4 {
		t.Fatalf("counters %v", c.Metrics())
	}
}

func TestRollSize(t *testing.T) {
	h := newHarness(t, noRolls(map[string]string{"hdfs.rollSize": "10"}), nil)
	putEvents(t, h.ch, ev("abcde"), ev("fghij"), ev("klmno"), ev("pqrst"), ev("u"))
	h.mustProcess()
	complete, inUse := h.split()
	equal(t, "complete", complete, []string{"FlumeData." + ms, "FlumeData.1709634030001"})
	equal(t, "in use", inUse, []string{"FlumeData.1709634030002.tmp"})
	if got := h.read(complete[1]); got != "klmno\npqrst\n" {
		t.Fatalf("second file %q", got)
	}
}

func TestRollInterval(t *testing.T) {
	h := newHarness(t, noRolls(map[string]string{"hdfs.rollInterval": "30"}), nil)
	putEvents(t, h.ch, evs("a", 3)...)
	h.mustProcess()
	h.clock.Advance(29 * time.Second)
	putEvents(t, h.ch, evs("b", 2)...)
	h.mustProcess()
	_, inUse := h.split()
	equal(t, "before the interval", inUse, []string{"FlumeData." + ms + ".tmp"})
	h.clock.Advance(time.Second)
	h.mustProcess() // the roll check runs first; the channel is empty
	equal(t, "after", h.files(), []string{"FlumeData." + ms})
	if got := h.read("FlumeData." + ms); got != "a0\na1\na2\nb0\nb1\n" {
		t.Fatalf("content %q", got)
	}
	// The bucket stays: the next event opens the next counter.
	putEvents(t, h.ch, ev("c"))
	h.mustProcess()
	equal(t, "next", h.files(), []string{"FlumeData." + ms, "FlumeData.1709634030001.tmp"})
}

func TestIdleTimeout(t *testing.T) {
	h := newHarness(t, noRolls(map[string]string{"hdfs.idleTimeout": "5", "hdfs.path": "$DIR/%{b}"}), nil)
	putEvents(t, h.ch, ev("x", "b", "one"))
	h.mustProcess()
	h.clock.Advance(3 * time.Second)
	putEvents(t, h.ch, ev("y", "b", "two"))
	h.mustProcess()
	if n := h.sink.OpenFiles(); n != 2 {
		t.Fatalf("open files %d", n)
	}
	h.clock.Advance(2 * time.Second) // bucket one idle 5 s, two 2 s
	h.mustProcess()
	equal(t, "files", h.files(), []string{"one/FlumeData." + ms, "two/FlumeData.1709634033000.tmp"})
	h.clock.Advance(3 * time.Second)
	h.sink.mu.Lock()
	h.sink.checkRolls(context.Background()) // what the roll timer calls
	h.sink.mu.Unlock()
	equal(t, "files", h.files(), []string{"one/FlumeData." + ms, "two/FlumeData.1709634033000"})
	if n := h.sink.OpenFiles(); n != 0 {
		t.Fatalf("open files %d", n)
	}
}

func TestMaxOpenFiles(t *testing.T) {
	h := newHarness(t, noRolls(map[string]string{"hdfs.maxOpenFiles": "2", "hdfs.filePrefix": "%{k}"}), nil)
	putEvents(t, h.ch, ev("1", "k", "a"), ev("2", "k", "b"))
	h.mustProcess()
	putEvents(t, h.ch, ev("3", "k", "c"))
	h.mustProcess()
	complete, inUse := h.split()
	equal(t, "complete", complete, []string{"a." + ms})
	equal(t, "in use", inUse, []string{"b." + ms + ".tmp", "c." + ms + ".tmp"})
}

func TestBucketsByHeaderAndTime(t *testing.T) {
	h := newHarness(t, noRolls(map[string]string{
		"hdfs.path": "$DIR/%{host}/%Y/%m/%d/%H", "hdfs.filePrefix": "ev-%[localhost]", "hdfs.fileSuffix": ".log",
		"hdfs.useLocalTimeStamp": "false", "hdfs.timeZone": "UTC", "hdfs.round": "true", "hdfs.roundUnit": "hour", "hdfs.roundValue": "6",
		"serializer": "header_and_text",
	}), nil)
	putEvents(t, h.ch,
		ev("a", "host", "web1", "timestamp", "1709629623456"), // 2024-03-05 09:07 UTC → 06
		ev("b", "host", "web2", "timestamp", "1709629623456"),
		ev("c", "host", "web1", "timestamp", "1709683200000"), // 2024-03-06 00:00 UTC
	)
	h.mustProcess()
	if err := h.sink.Stop(); err != nil {
		t.Fatal(err)
	}
	equal(t, "files", h.files(), []string{
		"web1/2024/03/05/06/ev-host1." + ms + ".log",
		"web1/2024/03/06/00/ev-host1." + ms + ".log",
		"web2/2024/03/05/06/ev-host1." + ms + ".log",
	})
	if got := h.read("web1/2024/03/05/06/ev-host1." + ms + ".log"); got != "{host=web1, timestamp=1709629623456} a\n" {
		t.Fatalf("content %q", got)
	}
}

func TestMissingTimestampRollsBack(t *testing.T) {
	h := newHarness(t, noRolls(map[string]string{"hdfs.path": "$DIR/%Y", "hdfs.useLocalTimeStamp": "false"}), nil)
	putEvents(t, h.ch, ev("ok", "timestamp", "1709629623456"), ev("no timestamp"))
	_, err := h.process()
	if !errors.Is(err, ErrNoTimestamp) || !strings.Contains(err.Error(), "hdfs.useLocalTimeStamp") {
		t.Fatalf("error %v", err)
	}
	if n := h.ch.Size(); n != 2 {
		t.Fatalf("channel holds %d events after rollback, want 2", n)
	}
	if f := h.files(); len(f) != 0 {
		t.Fatalf("files left by the failed batch: %v", f)
	}
	if m := h.sink.ExtraMetrics(); m[0].Value != 1 {
		t.Fatalf("metrics %v", m)
	}
	if h.sink.Counter().EventWriteFail.Load() != 1 {
		t.Fatal("EventWriteFail not counted")
	}
}

// TestPathEscape: no header value places a file outside the base path, and
// the batch carrying it is refused.
func TestPathEscape(t *testing.T) {
	for _, tc := range []struct {
		name     string
		path     string
		prefix   string
		headers  []string
		wantFile string // "" means refused
	}{
		{"dotdot", "$DIR/base/%{d}", "", []string{"d", ".."}, ""},
		{"dotdot inside", "$DIR/base/%{d}", "", []string{"d", "a/../../../x"}, ""},
		{"absolute", "$DIR/base/%{d}", "", []string{"d", "/etc"}, ""},
		{"absolute whole path", "%{d}", "", []string{"d", "$DIR/evil"}, ""},
		{"two dots from two headers", "$DIR/base/%{a}%{b}", "", []string{"a", ".", "b", "."}, ""},
		{"prefix dotdot", "$DIR/base", "%{p}", []string{"p", "../../evil"}, ""},
		{"prefix dot elem", "$DIR/base", "x/%{p}/y", []string{"p", "."}, ""},
		{"backslash", "$DIR/base/%{d}", "", []string{"d", `..\..`}, ""},
		{"subdir allowed", "$DIR/base/%{d}", "", []string{"d", "a/b"}, "base/a/b/FlumeData." + ms + ".tmp"},
		{"three dots allowed", "$DIR/base/%{d}", "", []string{"d", "..."}, "base/.../FlumeData." + ms + ".tmp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kv := noRolls(map[string]string{"hdfs.path": tc.path})
			if tc.prefix != "" {
				kv["hdfs.filePrefix"] = tc.prefix
			}
			h := newHarness(t, kv, nil)
			headers := make([]string, len(tc.headers))
			for i, v := range tc.headers {
				headers[i] = strings.ReplaceAll(v, "$DIR", h.dir)
			}
			putEvents(t, h.ch, ev("payload", headers...))
			_, err := h.process()
			if tc.wantFile == "" {
				if !errors.Is(err, ErrUnsafePath) {
					t.Fatalf("error %v, want ErrUnsafePath", err)
				}
				if f := h.files(); len(f) != 0 {
					t.Fatalf("files written: %v", f)
				}
				if h.ch.Size() != 1 {
					t.Fatal("event not returned to the channel")
				}
				if h.sink.ExtraMetrics()[1].Value != 1 {
					t.Fatal("not counted")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "files", h.files(), []string{tc.wantFile})
		})
	}
}

// faultFS fails writes, flushes or truncates on demand.
type faultFS struct {
	fsys.FS
	mu            sync.Mutex
	failWrite     int // fail the n-th write from now (1 = next); 0 = never
	failTruncate  bool
	partialWrites bool // a failing write writes half its bytes first
}

func (f *faultFS) Create(ctx context.Context, name string) (fsys.File, error) {
	file, err := f.FS.Create(ctx, name)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: file, fs: f}, nil
}

type faultFile struct {
	fsys.File
	fs *faultFS
}

var errInjected = errors.New("injected fault")

func (f *faultFile) Write(p []byte) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.fs.failWrite > 0 {
		f.fs.failWrite--
		if f.fs.failWrite == 0 {
			n := 0
			if f.fs.partialWrites {
				n, _ = f.File.Write(p[:len(p)/2])
			}
			return n, errInjected
		}
	}
	return f.File.Write(p)
}

func (f *faultFile) Truncate(n int64) error {
	f.fs.mu.Lock()
	fail := f.fs.failTruncate
	f.fs.mu.Unlock()
	if fail {
		return errInjected
	}
	return f.File.Truncate(n)
}

func (f *faultFS) set(fn func(*faultFS)) { f.mu.Lock(); fn(f); f.mu.Unlock() }

func readAll(t *testing.T, h *harness, gz bool) string {
	t.Helper()
	var all strings.Builder
	for _, f := range h.files() {
		b := h.read(f)
		if gz {
			r, err := gzip.NewReader(strings.NewReader(b))
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			d, err := io.ReadAll(r)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			b = string(d)
		}
		all.WriteString(b)
	}
	return all.String()
}

// TestFailedBatchLeavesNoPartialBatch: a write that fails half way is cut
// out of the file, the file is closed as it stood after the last commit, and
// the retry writes the batch once, in a new file.
func TestFailedBatchLeavesNoPartialBatch(t *testing.T) {
	for _, codec := range []string{"", "gzip"} {
		t.Run("codec="+codec, func(t *testing.T) {
			ffs := &faultFS{FS: fsys.Local{}, partialWrites: true}
			kv := noRolls(map[string]string{"hdfs.batchSize": "5"})
			if codec != "" {
				kv["hdfs.fileType"], kv["hdfs.codeC"] = "CompressedStream", codec
			}
			h := newHarness(t, kv, func(c *Config) { c.FS = ffs })
			putEvents(t, h.ch, evs("a", 5)...)
			h.mustProcess()
			putEvents(t, h.ch, evs("b", 5)...)
			ffs.set(func(f *faultFS) { f.failWrite = 1 })
			if _, err := h.process(); !errors.Is(err, errInjected) {
				t.Fatalf("error %v", err)
			}
			if h.ch.Size() != 5 {
				t.Fatalf("channel size %d", h.ch.Size())
			}
			complete, inUse := h.split()
			if len(inUse) != 0 || len(complete) != 1 {
				t.Fatalf("files %v %v", complete, inUse)
			}
			h.mustProcess()
			if err := h.sink.Stop(); err != nil {
				t.Fatal(err)
			}
			want := "a0\na1\na2\na3\na4\nb0\nb1\nb2\nb3\nb4\n"
			if got := readAll(t, h, codec != ""); got != want {
				t.Fatalf("content %q, want %q", got, want)
			}
		})
	}
}

// TestFailedBatchAcrossRoll: a batch that rolled a file mid-way and then
// failed leaves neither file behind.
func TestFailedBatchAcrossRoll(t *testing.T) {
	ffs := &faultFS{FS: fsys.Local{}}
	h := newHarness(t, noRolls(map[string]string{"hdfs.rollCount": "3", "hdfs.batchSize": "5"}), func(c *Config) { c.FS = ffs })
	putEvents(t, h.ch, evs("a", 5)...)
	ffs.set(func(f *faultFS) { f.failWrite = 2 }) // the second file's write
	if _, err := h.process(); !errors.Is(err, errInjected) {
		t.Fatalf("error %v", err)
	}
	if f := h.files(); len(f) != 0 {
		t.Fatalf("files %v", f)
	}
	h.mustProcess()
	if err := h.sink.Stop(); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, h, false); got != "a0\na1\na2\na3\na4\n" {
		t.Fatalf("content %q", got)
	}
	equal(t, "files", h.files(), []string{"FlumeData.1709634030002", "FlumeData.1709634030003"})
}

// TestCommitFailure: the channel refuses the commit after the bytes were
// flushed; the file is cut back all the same.
func TestCommitFailure(t *testing.T) {
	h := newHarness(t, noRolls(nil), nil)
	putEvents(t, h.ch, evs("a", 2)...)
	h.mustProcess()
	putEvents(t, h.ch, evs("b", 2)...)
	h.sink.channel = &failCommit{Channel: h.ch}
	if _, err := h.process(); err == nil || !strings.Contains(err.Error(), "commit") {
		t.Fatalf("error %v", err)
	}
	equal(t, "files", h.files(), []string{"FlumeData." + ms})
	if got := h.read("FlumeData." + ms); got != "a0\na1\n" {
		t.Fatalf("content %q", got)
	}
}

type failCommit struct{ flume.Channel }

func (c *failCommit) NewTransaction() flume.Transaction {
	return &failCommitTx{Transaction: c.Channel.NewTransaction()}
}

type failCommitTx struct{ flume.Transaction }

func (t *failCommitTx) Commit() error { _ = t.Transaction.Rollback(); return errInjected }

func TestGzipReadableByGzip(t *testing.T) {
	h := newHarness(t, noRolls(map[string]string{"hdfs.fileType": "CompressedStream", "hdfs.codeC": "gzip", "hdfs.batchSize": "10"}), nil)
	var want strings.Builder
	for batch := range 3 {
		events := evs("batch"+itoa(batch)+"-", 10)
		if batch == 1 {
			// Larger than the compressor's gathering chunk.
			for _, e := range events {
				e.Body = append(e.Body, strings.Repeat(itoa(batch), 10000)...)
			}
		}
		for _, e := range events {
			want.WriteString(string(e.Body) + "\n")
		}
		putEvents(t, h.ch, events...)
		h.mustProcess()
	}
	if err := h.sink.Stop(); err != nil {
		t.Fatal(err)
	}
	equal(t, "files", h.files(), []string{"FlumeData." + ms + ".gz"})
	path := filepath.Join(h.dir, "FlumeData."+ms+".gz")
	var got []byte
	if bin, err := exec.LookPath("gzip"); err == nil {
		got, err = exec.Command(bin, "-dc", path).Output()
		if err != nil {
			t.Fatalf("gzip -d: %v", err)
		}
	} else {
		got = []byte(readAll(t, h, true))
	}
	if string(got) != want.String() {
		t.Fatalf("decompressed %q, want %q", got, want.String())
	}
}

func TestOtherCodecs(t *testing.T) {
	for _, tc := range []struct{ codec, ext string }{{"deflate", ".deflate"}, {"zstd", ".zst"}, {"org.apache.hadoop.io.compress.GzipCodec", ".gz"}} {
		t.Run(tc.codec, func(t *testing.T) {
			h := newHarness(t, noRolls(map[string]string{"hdfs.fileType": "CompressedStream", "hdfs.codeC": tc.codec}), nil)
			putEvents(t, h.ch, evs("z", 3)...)
			h.mustProcess()
			if err := h.sink.Stop(); err != nil {
				t.Fatal(err)
			}
			f := h.files()
			if len(f) != 1 || !strings.HasSuffix(f[0], tc.ext) || h.read(f[0]) == "z0\nz1\nz2\n" {
				t.Fatalf("files %v", f)
			}
		})
	}
}

func TestAvroEvent(t *testing.T) {
	h := newHarness(t, noRolls(map[string]string{"serializer": "avro_event", "hdfs.fileSuffix": ".avro",
		"serializer.compressionCodec": "deflate", "hdfs.batchSize": "4"}), nil)
	for batch := range 3 {
		events := evs("b"+itoa(batch)+"-", 4)
		for _, e := range events {
			e.Headers["batch"] = itoa(batch)
		}
		putEvents(t, h.ch, events...)
		h.mustProcess()
	}
	if err := h.sink.Stop(); err != nil {
		t.Fatal(err)
	}
	equal(t, "files", h.files(), []string{"FlumeData." + ms + ".avro"})
	dec, err := ocf.NewDecoder(bytes.NewReader([]byte(h.read("FlumeData." + ms + ".avro"))))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for dec.HasNext() {
		var e serializer.AvroEvent
		if err := dec.Decode(&e); err != nil {
			t.Fatal(err)
		}
		if want := "b" + itoa(n/4) + "-" + itoa(n%4); string(e.Body) != want || e.Headers["batch"] != itoa(n/4) {
			t.Fatalf("record %d = %+v", n, e)
		}
		n++
	}
	if dec.Error() != nil || n != 12 {
		t.Fatalf("read %d records, err %v", n, dec.Error())
	}
}

// TestRecoverInUse: files left in use by a crashed run get their final
// names at the next start; other files are left alone.
func TestRecoverInUse(t *testing.T) {
	h := newHarness(t, noRolls(map[string]string{"hdfs.path": "$DIR/logs/%Y", "hdfs.inUsePrefix": "_"}), nil)
	putEvents(t, h.ch, evs("a", 3)...)
	h.mustProcess()
	equal(t, "before", h.files(), []string{"logs/2024/_FlumeData." + ms + ".tmp"})
	// Plant more leftovers, and files that are not ours.
	for _, name := range []string{"logs/2023/_FlumeData.1600000000000.gz.tmp", "logs/_other.tmp", "logs/2024/_FlumeData.tmp", "logs/2024/notes.txt"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(h.dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(h.dir, name), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A "crash": the first sink never closes its file; a new one starts.
	h.clock.Advance(time.Minute)
	h.build(nil)
	equal(t, "after restart", h.files(), []string{
		"logs/2023/FlumeData.1600000000000.gz",
		"logs/2024/FlumeData." + ms,
		"logs/2024/_FlumeData.tmp",
		"logs/2024/notes.txt",
		"logs/_other.tmp",
	})
	if got := h.read("logs/2024/FlumeData." + ms); got != "a0\na1\na2\n" {
		t.Fatalf("content %q", got)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		kv   map[string]string
		want string
	}{
		{map[string]string{}, `"hdfs.path": is required`},
		{map[string]string{"hdfs.path": "/x", "hdfs.writeFormat": "Avro"}, `"hdfs.writeFormat": unknown format "Avro"`},
		{map[string]string{"hdfs.path": "/x", "hdfs.fileType": "SequenceFile", "hdfs.codeC": "zstd"}, `"hdfs.codeC": "zstd" is not supported in SequenceFiles`},
		{map[string]string{"hdfs.path": "/x", "hdfs.codeC": "snappy"}, `"hdfs.codeC": unsupported codec "snappy"`},
		{map[string]string{"hdfs.path": "/x", "hdfs.compressionType": "BLOCK"}, `"hdfs.compressionType": BLOCK compression needs hdfs.codeC`},
		{map[string]string{"hdfs.path": "/x", "hdfs.codeC": "gzip", "hdfs.compressionType": "NONE"}, `"hdfs.compressionType": NONE compresses nothing`},
		{map[string]string{"hdfs.path": "/x", "hdfs.codeC": "gzip", "hdfs.compressionType": "huge"}, `"hdfs.compressionType": unknown compression type`},
		{map[string]string{"hdfs.path": "/x", "hdfs.fileType": "Parquet"}, `unknown file type "Parquet"`},
		{map[string]string{"hdfs.path": "/x", "hdfs.fileType": "CompressedStream"}, `"hdfs.codeC": is required`},
		{map[string]string{"hdfs.path": "/x", "hdfs.fileType": "CompressedStream", "hdfs.codeC": "lzo"}, "unsupported codec"},
		{map[string]string{"hdfs.path": "/x", "hdfs.fileType": "DataStream", "hdfs.codeC": "gzip"}, "not compressed"},
		{map[string]string{"hdfs.path": "/x/%Q", "hdfs.fileType": "DataStream"}, "unknown escape %Q"},
		{map[string]string{"hdfs.path": "ftp://h/x", "hdfs.fileType": "DataStream"}, "unsupported scheme"},
		{map[string]string{"hdfs.path": "s3:///x", "hdfs.fileType": "DataStream"}, "no bucket"},
		{map[string]string{"hdfs.path": "hdfs://%{h}/x", "hdfs.fileType": "DataStream"}, "escapes are not allowed"},
		{map[string]string{"hdfs.path": "/x", "hdfs.fileType": "DataStream", "hdfs.roundUnit": "day"}, "unknown unit"},
		{map[string]string{"hdfs.path": "/x", "hdfs.fileType": "DataStream", "hdfs.roundUnit": "minute", "hdfs.roundValue": "61"}, "out of range"},
		{map[string]string{"hdfs.path": "/x", "hdfs.fileType": "DataStream", "hdfs.timeZone": "Mars/Base"}, "unknown time zone"},
		{map[string]string{"hdfs.path": "/x", "hdfs.fileType": "DataStream", "serializer": "xml"}, "unknown serializer"},
		{map[string]string{"hdfs.path": "/x", "hdfs.fileType": "DataStream", "hdfs.inUseSuffix": "/../x"}, "must not contain"},
		{map[string]string{"hdfs.path": "/x", "hdfs.fileType": "DataStream", "hdfs.s3.accessKey": "a"}, "set both"},
		{map[string]string{"hdfs.path": "/x", "hdfs.fileType": "DataStream", "hdfs.batchSize": "0"}, "out of range"},
	} {
		_, err := ParseConfig("k", flume.MapContext(`sink "k"`, tc.kv))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.kv, err, tc.want)
		}
		var ce *flume.ConfigError
		if err != nil && !errors.As(err, &ce) {
			t.Errorf("%v: %T is not a *flume.ConfigError", tc.kv, err)
		}
	}
	cfg, err := ParseConfig("k", flume.MapContext(`sink "k"`, map[string]string{"hdfs.path": "/x", "hdfs.fileType": "DataStream"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.FilePrefix.String() != "FlumeData" || cfg.InUseSuffix != ".tmp" || cfg.RollInterval != 30*time.Second ||
		cfg.RollSize != 1024 || cfg.RollCount != 10 || cfg.BatchSize != 100 || cfg.MaxOpenFiles != 5000 ||
		cfg.CallTimeout != 10*time.Second || cfg.IdleTimeout != 0 || cfg.Serializer != "text" {
		t.Fatalf("defaults %+v", cfg)
	}
}

func TestRegistered(t *testing.T) {
	for _, name := range []string{"hdfs", "org.apache.flume.sink.hdfs.HDFSEventSink"} {
		r, ok := flume.Lookup(flume.KindSink, name)
		if !ok || r.Spec.Alias != "hdfs" {
			t.Fatalf("%s not registered", name)
		}
	}
	for _, k := range []string{"hdfs.path", "hdfs.rollCount", "serializer.appendNewline", "serializer.syncIntervalBytes", "hdfs.s3.endpoint"} {
		if !Spec.Accepts(k) {
			t.Errorf("spec refuses %s", k)
		}
	}
}
