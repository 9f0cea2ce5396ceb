package fileroll

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"ampsflume/channels/memory"
	"ampsflume/flume"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var epoch = time.Date(2024, 3, 5, 10, 20, 30, 0, time.Local)

func newChannel(t *testing.T) *memory.Channel {
	t.Helper()
	cfg := memory.DefaultConfig()
	cfg.Capacity, cfg.TransactionCapacity, cfg.KeepAlive, cfg.ByteCapacity = 1000, 100, 0, 0
	ch, err := memory.New("c1", cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ch.Stop() })
	return ch
}

func putEvents(t *testing.T, ch flume.Channel, events ...*flume.Event) {
	t.Helper()
	tx := ch.NewTransaction()
	if err := tx.Begin(); err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if err := tx.Put(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	_ = tx.Close()
}

func bodies(from, to int) []*flume.Event {
	var out []*flume.Event
	for i := from; i < to; i++ {
		out = append(out, flume.NewEvent([]byte("e"+strconv.Itoa(i)), nil))
	}
	return out
}

type harness struct {
	t     *testing.T
	dir   string
	clock *fakeClock
	ch    *memory.Channel
	sink  *Sink
}

func newHarness(t *testing.T, kv map[string]string, tweak func(*Config)) *harness {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "out") // does not exist yet
	props := map[string]string{"sink.directory": dir}
	for k, v := range kv {
		props[k] = v
	}
	cfg, err := ParseConfig(flume.MapContext(`sink "k1"`, props))
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{t: epoch}
	cfg.Now = clock.Now
	if tweak != nil {
		tweak(&cfg)
	}
	ch := newChannel(t)
	s, err := New("k1", cfg, ch, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	return &harness{t: t, dir: dir, clock: clock, ch: ch, sink: s}
}

func (h *harness) process() (flume.Status, error) {
	h.t.Helper()
	return h.sink.Process(context.Background())
}

func (h *harness) mustProcess(want flume.Status) {
	h.t.Helper()
	st, err := h.process()
	if err != nil {
		h.t.Fatalf("Process: %v", err)
	}
	if st != want {
		h.t.Fatalf("Process = %v, want %v", st, want)
	}
}

// files returns the directory's file names and contents, sorted by name.
func (h *harness) files() map[string]string {
	h.t.Helper()
	entries, err := os.ReadDir(h.dir)
	if err != nil {
		h.t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(h.dir, e.Name()))
		if err != nil {
			h.t.Fatal(err)
		}
		out[e.Name()] = string(b)
	}
	return out
}

func names(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestDefaultNamingAndRolling(t *testing.T) {
	h := newHarness(t, map[string]string{"sink.batchSize": "10"}, nil)
	series := strconv.FormatInt(epoch.UnixMilli(), 10)
	putEvents(t, h.ch, bodies(0, 3)...)
	h.mustProcess(flume.Backoff)

	h.clock.Advance(29 * time.Second)
	putEvents(t, h.ch, bodies(3, 4)...)
	h.mustProcess(flume.Backoff)
	if got := h.files(); len(got) != 1 || got[series+"-1"] != "e0\ne1\ne2\ne3\n" {
		t.Fatalf("before the roll: %q", got)
	}

	// The roll is due at 30 s; an idle interval leaves an empty file, as
	// in Flume.
	h.clock.Advance(time.Second)
	h.mustProcess(flume.Backoff)
	h.clock.Advance(30 * time.Second)
	putEvents(t, h.ch, bodies(4, 6)...)
	h.mustProcess(flume.Backoff)
	// Several missed intervals make one roll.
	h.clock.Advance(95 * time.Second)
	putEvents(t, h.ch, bodies(6, 7)...)
	h.mustProcess(flume.Backoff)
	want := map[string]string{
		series + "-1": "e0\ne1\ne2\ne3\n",
		series + "-2": "",
		series + "-3": "e4\ne5\n",
		series + "-4": "e6\n",
	}
	got := h.files()
	if strings.Join(names(got), " ") != strings.Join(names(want), " ") {
		t.Fatalf("files %v, want %v", names(got), names(want))
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if h.sink.CurrentFile() != filepath.Join(h.dir, series+"-4") {
		t.Fatalf("current file %q", h.sink.CurrentFile())
	}
}

func TestPrefixExtensionAndRollTime(t *testing.T) {
	tests := []struct {
		name string
		kv   map[string]string
		want func(series string) []string
	}{
		{"default with prefix and extension",
			map[string]string{"sink.pathManager.prefix": "flume-", "sink.pathManager.extension": "log"},
			func(series string) []string {
				return []string{"flume-" + series + "-1.log", "flume-" + series + "-2.log"}
			}},
		{"rolltime",
			map[string]string{"sink.pathManager": "ROLLTIME", "sink.pathManager.extension": "txt"},
			func(string) []string {
				return []string{
					epoch.Format("20060102150405") + "-1.txt",
					epoch.Add(10*time.Second).Format("20060102150405") + "-1.txt",
					epoch.Add(10*time.Second).Format("20060102150405") + "-2.txt",
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.kv, func(c *Config) { c.RollInterval = 10 * time.Second })
			h.mustProcess(flume.Backoff)
			h.clock.Advance(10 * time.Second)
			h.mustProcess(flume.Backoff)
			if len(tt.want("")) == 3 {
				// A second roll within the same second of the
				// stamp numbers on from 1.
				if err := h.sink.Stop(); err != nil {
					t.Fatal(err)
				}
				_ = h.sink.Start(context.Background())
				h.mustProcess(flume.Backoff)
			}
			want := tt.want(strconv.FormatInt(epoch.UnixMilli(), 10))
			if got := names(h.files()); strings.Join(got, " ") != strings.Join(want, " ") {
				t.Fatalf("files %v, want %v", got, want)
			}
		})
	}
}

func TestRollIntervalZeroKeepsOneFile(t *testing.T) {
	h := newHarness(t, map[string]string{"sink.rollInterval": "0", "sink.batchSize": "2"}, nil)
	for i := 0; i < 5; i++ {
		putEvents(t, h.ch, bodies(i, i+1)...)
		h.mustProcess(flume.Backoff)
		h.clock.Advance(time.Hour)
	}
	got := h.files()
	if len(got) != 1 {
		t.Fatalf("files %v, want one", names(got))
	}
	for _, v := range got {
		if v != "e0\ne1\ne2\ne3\ne4\n" {
			t.Fatalf("content %q", v)
		}
	}
}

func TestSerializers(t *testing.T) {
	events := []*flume.Event{
		flume.NewEvent([]byte("hello"), map[string]string{"b": "2", "a": "1"}),
		flume.NewEvent([]byte(""), nil),
		flume.NewEvent([]byte("bin\x00\xff"), map[string]string{"k": ""}),
	}
	tests := []struct {
		kv   map[string]string
		want string
	}{
		{nil, "hello\n\nbin\x00\xff\n"},
		{map[string]string{"sink.serializer": "TEXT", "sink.serializer.appendNewline": "false"}, "hellobin\x00\xff"},
		{map[string]string{"sink.serializer": "header_and_text"}, "{a=1, b=2} hello\n{} \n{k=} bin\x00\xff\n"},
		{map[string]string{"sink.serializer": "org.apache.flume.serialization.HeaderAndBodyTextEventSerializer$Builder",
			"sink.serializer.appendNewline": "false"}, "{a=1, b=2} hello{} {k=} bin\x00\xff"},
	}
	for _, tt := range tests {
		t.Run(tt.kv["sink.serializer"]+tt.kv["sink.serializer.appendNewline"], func(t *testing.T) {
			h := newHarness(t, tt.kv, nil)
			putEvents(t, h.ch, events...)
			h.mustProcess(flume.Backoff)
			for _, v := range h.files() {
				if v != tt.want {
					t.Fatalf("got %q, want %q", v, tt.want)
				}
			}
		})
	}
}

// faultFile is a real file whose writes fail once budget bytes are spent,
// after writing what fits: a torn write.
type faultFile struct {
	*os.File
	mu     *sync.Mutex
	budget *int64 // < 0: unlimited
	syncs  *int
}

var errDiskFull = errors.New("injected: no space left on device")

func (f faultFile) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if *f.budget < 0 {
		return f.File.Write(p)
	}
	if int64(len(p)) <= *f.budget {
		*f.budget -= int64(len(p))
		return f.File.Write(p)
	}
	n, _ := f.File.Write(p[:*f.budget])
	*f.budget = 0
	return n, errDiskFull
}

func (f faultFile) Sync() error {
	f.mu.Lock()
	*f.syncs++
	f.mu.Unlock()
	return f.File.Sync()
}

func TestFailedWriteIsTruncated(t *testing.T) {
	var mu sync.Mutex
	budget := int64(-1)
	syncs := 0
	h := newHarness(t, map[string]string{"sink.batchSize": "4", "sink.fsync": "true"}, func(c *Config) {
		c.OpenFile = func(path string) (File, error) {
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
			if err != nil {
				return nil, err
			}
			return faultFile{File: f, mu: &mu, budget: &budget, syncs: &syncs}, nil
		}
	})
	putEvents(t, h.ch, bodies(0, 4)...)
	h.mustProcess(flume.Ready)
	if syncs != 1 {
		t.Fatalf("fsync calls = %d, want 1", syncs)
	}

	// The next batch tears after 5 bytes: "e4\ne5" reaches the file.
	putEvents(t, h.ch, bodies(4, 8)...)
	mu.Lock()
	budget = 5
	mu.Unlock()
	if _, err := h.process(); !errors.Is(err, errDiskFull) {
		t.Fatalf("Process = %v, want the injected error", err)
	}
	if h.ch.Size() != 4 {
		t.Fatalf("channel holds %d events after the failure, want 4", h.ch.Size())
	}
	for name, v := range h.files() {
		if v != "e0\ne1\ne2\ne3\n" {
			t.Fatalf("%s after the failure = %q, want only the committed batch", name, v)
		}
	}
	if n := h.sink.Counter().EventWriteFail.Load(); n == 0 {
		t.Fatal("EventWriteFail not counted")
	}

	mu.Lock()
	budget = -1
	mu.Unlock()
	h.mustProcess(flume.Ready)
	for name, v := range h.files() {
		if v != "e0\ne1\ne2\ne3\ne4\ne5\ne6\ne7\n" {
			t.Fatalf("%s after the retry = %q", name, v)
		}
	}
	c := h.sink.Counter()
	if c.EventDrainSuccess.Load() != 8 || c.BatchComplete.Load() != 2 || c.ConnectionCreated.Load() != 1 {
		t.Fatalf("counters: success %d complete %d created %d", c.EventDrainSuccess.Load(), c.BatchComplete.Load(), c.ConnectionCreated.Load())
	}
}

// failingCommit is a channel whose transactions fail to commit while fail
// is set.
type failingCommit struct {
	flume.Channel
	fail *bool
}

type failingTx struct {
	flume.Transaction
	fail *bool
}

func (c failingCommit) NewTransaction() flume.Transaction {
	return failingTx{c.Channel.NewTransaction(), c.fail}
}

func (t failingTx) Commit() error {
	if *t.fail {
		_ = t.Transaction.Rollback()
		return errors.New("injected commit failure")
	}
	return t.Transaction.Commit()
}

func TestFailedCommitIsTruncated(t *testing.T) {
	dir := t.TempDir()
	ch := newChannel(t)
	fail := true
	s, err := New("k1", Config{Directory: dir, BatchSize: 10, AppendNewline: true}, failingCommit{ch, &fail}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	putEvents(t, ch, bodies(0, 3)...)
	if _, err := s.Process(context.Background()); err == nil {
		t.Fatal("Process succeeded with a failing commit")
	}
	fail = false
	if _, err := s.Process(context.Background()); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(s.CurrentFile())
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != "e0\ne1\ne2\n" {
		t.Fatalf("file = %q, want each event once", b)
	}
}

func TestExistingFileNotOverwritten(t *testing.T) {
	h := newHarness(t, nil, nil)
	series := strconv.FormatInt(epoch.UnixMilli(), 10)
	if err := os.WriteFile(filepath.Join(h.dir, series+"-1"), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	putEvents(t, h.ch, bodies(0, 1)...)
	h.mustProcess(flume.Backoff)
	got := h.files()
	if got[series+"-1"] != "old" || got[series+"-2"] != "e0\n" {
		t.Fatalf("files %q", got)
	}
}

func TestCountersAndStatus(t *testing.T) {
	h := newHarness(t, map[string]string{"sink.batchSize": "3"}, nil)
	h.mustProcess(flume.Backoff) // empty
	putEvents(t, h.ch, bodies(0, 5)...)
	h.mustProcess(flume.Ready)   // complete
	h.mustProcess(flume.Backoff) // underflow
	c := h.sink.Counter()
	got := []int64{c.BatchEmpty.Load(), c.BatchComplete.Load(), c.BatchUnderflow.Load(), c.EventDrainAttempt.Load(), c.EventDrainSuccess.Load()}
	if want := []int64{1, 1, 1, 5, 5}; !equalInts(got, want) {
		t.Fatalf("empty/complete/underflow/attempt/success = %v, want %v", got, want)
	}
	if err := h.sink.Stop(); err != nil {
		t.Fatal(err)
	}
	if c.ConnectionClosed.Load() != 1 {
		t.Fatalf("ConnectionClosed = %d", c.ConnectionClosed.Load())
	}
}

func equalInts(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestParseConfigErrors(t *testing.T) {
	tests := []struct {
		kv     map[string]string
		errKey string
	}{
		{map[string]string{}, "sink.directory"},
		{map[string]string{"sink.directory": " "}, "sink.directory"},
		{map[string]string{"sink.directory": "/tmp/x", "sink.rollInterval": "-1"}, "sink.rollInterval"},
		{map[string]string{"sink.directory": "/tmp/x", "sink.rollInterval": "30s"}, "sink.rollInterval"},
		{map[string]string{"sink.directory": "/tmp/x", "sink.batchSize": "0"}, "sink.batchSize"},
		{map[string]string{"sink.directory": "/tmp/x", "sink.serializer": "avro_event"}, "sink.serializer"},
		{map[string]string{"sink.directory": "/tmp/x", "sink.serializer.appendNewline": "yes"}, "sink.serializer.appendNewline"},
		{map[string]string{"sink.directory": "/tmp/x", "sink.pathManager": "hourly"}, "sink.pathManager"},
		{map[string]string{"sink.directory": "/tmp/x", "sink.pathManager.prefix": "a/b"}, "sink.pathManager.prefix"},
		{map[string]string{"sink.directory": "/tmp/x", "sink.fsync": "1"}, "sink.fsync"},
	}
	for _, tt := range tests {
		_, err := ParseConfig(flume.MapContext(`sink "k1"`, tt.kv))
		var ce *flume.ConfigError
		if !errors.As(err, &ce) || ce.Key != tt.errKey {
			t.Errorf("%v: err = %v, want a ConfigError for %q", tt.kv, err, tt.errKey)
		}
	}
	cfg, err := ParseConfig(flume.MapContext(`sink "k1"`, map[string]string{"sink.directory": "/tmp/x"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RollInterval != 30*time.Second || cfg.BatchSize != 100 || !cfg.AppendNewline || cfg.Fsync || cfg.RollTimeNames {
		t.Fatalf("defaults: %+v", cfg)
	}
}

func TestRegistered(t *testing.T) {
	r, ok := flume.Lookup(flume.KindSink, "org.apache.flume.sink.RollingFileSink")
	if !ok || r.Spec.Alias != "file_roll" {
		t.Fatal("file_roll not registered under its class name")
	}
	ch := newChannel(t) // transactionCapacity 100
	_, err := r.Sink(flume.SinkEnv{Name: "k1", Channel: ch, Config: flume.MapContext(`sink "k1"`, map[string]string{
		"sink.directory": t.TempDir(), "sink.batchSize": "101",
	})})
	var ce *flume.ConfigError
	if !errors.As(err, &ce) || ce.Key != "sink.batchSize" {
		t.Fatalf("batchSize above transactionCapacity: err = %v", err)
	}
	for _, k := range []string{"sink.directory", "sink.rollInterval", "sink.batchSize", "sink.serializer", "sink.serializer.appendNewline",
		"sink.pathManager", "sink.pathManager.prefix", "sink.pathManager.extension", "sink.fsync"} {
		if !r.Spec.Accepts(k) {
			t.Errorf("spec lacks %q", k)
		}
	}
}
