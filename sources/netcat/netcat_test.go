package netcat

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"go.uber.org/goleak"

	"ampsflume/flume"
	"ampsflume/internal/poll"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// recorder is a ChannelProcessor that records bodies and fails those equal
// to failBody.
type recorder struct {
	mu       sync.Mutex
	got      []string
	failBody string
}

func (r *recorder) ProcessEvent(e *flume.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if string(e.Body) == r.failBody {
		return &flume.ChannelError{Channel: "c1", Op: "commit", Err: fmt.Errorf("%w: no room", flume.ErrChannelFull)}
	}
	r.got = append(r.got, string(e.Body))
	return nil
}

func (r *recorder) ProcessEventBatch(events []*flume.Event) error {
	for _, e := range events {
		if err := r.ProcessEvent(e); err != nil {
			return err
		}
	}
	return nil
}

func (r *recorder) bodies() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}

func startSource(t *testing.T, kv map[string]string, rec *recorder) *Source {
	t.Helper()
	props := map[string]string{"bind": "127.0.0.1", "port": "0"}
	for k, v := range kv {
		props[k] = v
	}
	r, ok := flume.Lookup(flume.KindSource, "netcat")
	if !ok {
		t.Fatal("not registered")
	}
	src, err := r.Source(flume.SourceEnv{Name: "r1", Processor: rec, Config: flume.MapContext(`source "r1"`, props)})
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = src.Stop() })
	return src.(*Source)
}

func dial(t *testing.T, s *Source) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	// A deadline so that a broken source fails the test instead of hanging.
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	return c, bufio.NewReader(c)
}

func readLine(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	l, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("reading an answer: %v (got %q)", err, l)
	}
	return l
}

func TestLinesAndAcks(t *testing.T) {
	rec := &recorder{failBody: "bad"}
	s := startSource(t, nil, rec)
	c, r := dial(t, s)
	if _, err := io.WriteString(c, "hello\nworld\r\n\nbad\nlast\n"); err != nil {
		t.Fatal(err)
	}
	want := []string{"OK\n", "OK\n", "OK\n", "FAILED: channel \"c1\": commit: channel full: no room\n", "OK\n"}
	for i, w := range want {
		if got := readLine(t, r); got != w {
			t.Fatalf("answer %d = %q, want %q", i, got, w)
		}
	}
	if got := strings.Join(rec.bodies(), "|"); got != "hello|world\r||last" {
		t.Fatalf("bodies %q", got)
	}
	cnt := s.Counter()
	if cnt.EventReceived.Load() != 5 || cnt.EventAccepted.Load() != 4 || cnt.ChannelWriteFail.Load() != 1 || cnt.OpenConnection.Load() != 1 {
		t.Fatalf("counters %v", cnt.Metrics())
	}
}

func TestNoAck(t *testing.T) {
	rec := &recorder{failBody: "bad"}
	s := startSource(t, map[string]string{"ack-every-event": "false"}, rec)
	c, r := dial(t, s)
	if _, err := io.WriteString(c, "a\nbad\nb\n"); err != nil {
		t.Fatal(err)
	}
	// Only the failure is answered.
	if got := readLine(t, r); !strings.HasPrefix(got, "FAILED: ") {
		t.Fatalf("answer %q", got)
	}
	_ = c.Close()
	poll.Until(t, 20*time.Second, func() error {
		if b := rec.bodies(); len(b) < 2 {
			return fmt.Errorf("bodies %q", b)
		}
		return nil
	})
	if got := strings.Join(rec.bodies(), "|"); got != "a|b" {
		t.Fatalf("bodies %q", got)
	}
}

func TestLineTooLong(t *testing.T) {
	rec := &recorder{failBody: "\n"}
	s := startSource(t, map[string]string{"max-line-length": "8"}, rec)
	c, r := dial(t, s)
	// 7 characters plus the newline fit; 8 do not. Characters, not bytes.
	if _, err := io.WriteString(c, "1234567\nééééééé\n12345678\nnever\n"); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"OK\n", "OK\n", "FAILED: Event exceeds the maximum length (8 chars, including newline)\n"} {
		if got := readLine(t, r); got != w {
			t.Fatalf("answer %q, want %q", got, w)
		}
	}
	if _, err := r.ReadString('\n'); err != io.EOF {
		t.Fatalf("connection not closed after the long line: %v", err)
	}
	if got := strings.Join(rec.bodies(), "|"); got != "1234567|ééééééé" {
		t.Fatalf("bodies %q", got)
	}
	if s.Counter().EventReadFail.Load() != 1 {
		t.Fatal("EventReadFail not counted")
	}
	// Other clients are unaffected.
	c2, r2 := dial(t, s)
	_, _ = io.WriteString(c2, "again\n")
	if got := readLine(t, r2); got != "OK\n" {
		t.Fatalf("second client: %q", got)
	}
}

func TestManyClientsAndStop(t *testing.T) {
	rec := &recorder{failBody: "\n"}
	s := startSource(t, nil, rec)
	const clients, lines = 5, 50
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", s.Addr().String())
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(20 * time.Second))
			r := bufio.NewReader(c)
			for j := range lines {
				if _, err := fmt.Fprintf(c, "c%d-%d\n", i, j); err != nil {
					errs <- err
					return
				}
				if l, err := r.ReadString('\n'); err != nil || l != "OK\n" {
					errs <- fmt.Errorf("client %d: %q, %v", i, l, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := len(rec.bodies()); n != clients*lines {
		t.Fatalf("%d events, want %d", n, clients*lines)
	}
	// Stop closes idle connections too.
	idle, r := dial(t, s)
	_, _ = io.WriteString(idle, "x\n")
	readLine(t, r)
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadString('\n'); err == nil {
		t.Fatal("connection still open after Stop")
	}
	if s.Counter().OpenConnection.Load() != 0 {
		t.Fatalf("OpenConnection = %d after Stop", s.Counter().OpenConnection.Load())
	}
}

func TestConfig(t *testing.T) {
	tests := []struct {
		kv     map[string]string
		errKey string
	}{
		{map[string]string{"port": "1"}, "bind"},
		{map[string]string{"bind": "x"}, "port"},
		{map[string]string{"bind": "x", "port": "70000"}, "port"},
		{map[string]string{"bind": "x", "port": "p"}, "port"},
		{map[string]string{"bind": "x", "port": "1", "max-line-length": "0"}, "max-line-length"},
		{map[string]string{"bind": "x", "port": "1", "ack-every-event": "yes"}, "ack-every-event"},
	}
	for _, tt := range tests {
		_, err := ParseConfig(flume.MapContext(`source "r1"`, tt.kv))
		var ce *flume.ConfigError
		if !errors.As(err, &ce) || ce.Key != tt.errKey {
			t.Errorf("%v: err = %v, want key %q", tt.kv, err, tt.errKey)
		}
	}
	cfg, err := ParseConfig(flume.MapContext(`source "r1"`, map[string]string{"bind": "0.0.0.0", "port": "44444"}))
	if err != nil || cfg.MaxLineLength != 512 || !cfg.AckEveryEvent || cfg.Port != 44444 {
		t.Fatalf("defaults %+v, %v", cfg, err)
	}
}

// FuzzServe feeds arbitrary client input to the line reader: every event is
// a complete line of the input, in order, within the length limit, and the
// answers are one per event until a too-long line ends the session.
func FuzzServe(f *testing.F) {
	f.Add([]byte("a\nb\r\n\n"), uint8(8))
	f.Add([]byte("toolongline\nx\n"), uint8(4))
	f.Add([]byte("é\xff\xfe\n"), uint8(3))
	f.Fuzz(func(t *testing.T, in []byte, max uint8) {
		if max == 0 {
			max = 1
		}
		rec := &recorder{failBody: "\n"} // never a body
		s := New("f", Config{MaxLineLength: int(max), AckEveryEvent: true}, rec, nil)
		var out bytes.Buffer
		s.serve(bytes.NewReader(in), &out)
		rest := in
		for _, b := range rec.bodies() {
			if !bytes.HasPrefix(rest, []byte(b+"\n")) {
				t.Fatalf("event %q is not the next line of the input", b)
			}
			if utf8.RuneCountInString(b) >= int(max) {
				t.Fatalf("event %q exceeds max-line-length %d", b, max)
			}
			rest = rest[len(b)+1:]
		}
		answers := strings.Count(out.String(), "OK\n")
		if answers != len(rec.bodies()) {
			t.Fatalf("%d OKs for %d events", answers, len(rec.bodies()))
		}
	})
}
