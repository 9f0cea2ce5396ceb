package hdfs

import (
	"context"
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

var epoch = time.Date(2024, 3, 5, 10, 20, 30, 0, time.UTC)

func newChannel(t testing.TB) *memory.Channel {
	t.Helper()
	cfg := memory.DefaultConfig()
	cfg.Capacity, cfg.TransactionCapacity, cfg.KeepAlive, cfg.ByteCapacity = 10000, 1000, 0, 0
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

func putEvents(t testing.TB, ch flume.Channel, events ...*flume.Event) {
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

type harness struct {
	t     *testing.T
	dir   string
	clock *fakeClock
	ch    *memory.Channel
	sink  *Sink
	kv    map[string]string
}

// newHarness builds a sink on a temp directory with DataStream and the
// given keys on top; "hdfs.path" defaults to the temp directory.
func newHarness(t *testing.T, kv map[string]string, mod func(*Config)) *harness {
	t.Helper()
	h := &harness{t: t, dir: t.TempDir(), clock: &fakeClock{t: epoch}, ch: newChannel(t)}
	all := map[string]string{"hdfs.path": h.dir, "hdfs.fileType": "DataStream", "hdfs.useLocalTimeStamp": "true"}
	for k, v := range kv {
		all[k] = strings.ReplaceAll(v, "$DIR", h.dir)
	}
	h.kv = all
	h.sink = h.build(mod)
	return h
}

func (h *harness) build(mod func(*Config)) *Sink {
	h.t.Helper()
	cfg, err := ParseConfig("k1", flume.MapContext(`sink "k1"`, h.kv))
	if err != nil {
		h.t.Fatal(err)
	}
	cfg.Now = h.clock.Now
	cfg.Host = Host{Name: "host1", IP: "10.0.0.1", FQDN: "host1.example.com"}
	if mod != nil {
		mod(&cfg)
	}
	s, err := New("k1", cfg, h.ch, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { _ = s.Stop() })
	return s
}

func (h *harness) process() (flume.Status, error) {
	h.t.Helper()
	return h.sink.Process(context.Background())
}

func (h *harness) mustProcess() {
	h.t.Helper()
	if _, err := h.process(); err != nil {
		h.t.Fatal(err)
	}
}

// files lists the files under the sink's directory, relative, sorted.
func (h *harness) files() []string {
	h.t.Helper()
	var out []string
	err := filepath.Walk(h.dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if !info.IsDir() {
			rel, _ := filepath.Rel(h.dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		h.t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func (h *harness) read(rel string) string {
	h.t.Helper()
	b, err := os.ReadFile(filepath.Join(h.dir, rel))
	if err != nil {
		h.t.Fatal(err)
	}
	return string(b)
}

// complete and inUse split files() by the .tmp suffix.
func (h *harness) split() (complete, inUse []string) {
	for _, f := range h.files() {
		if strings.HasSuffix(f, ".tmp") {
			inUse = append(inUse, f)
		} else {
			complete = append(complete, f)
		}
	}
	return
}

func ev(body string, hdr ...string) *flume.Event {
	m := map[string]string{}
	for i := 0; i+1 < len(hdr); i += 2 {
		m[hdr[i]] = hdr[i+1]
	}
	return flume.NewEvent([]byte(body), m)
}

func evs(prefix string, n int) []*flume.Event {
	out := make([]*flume.Event, n)
	for i := range out {
		out[i] = ev(prefix + itoa(i))
	}
	return out
}

func itoa(i int) string { return strconv.Itoa(i) }

func equal[T comparable](t *testing.T, what string, got, want []T) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: got %v, want %v", what, got, want)
		}
	}
}
