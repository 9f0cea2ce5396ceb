package avro

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"ampsflume/avrorpc"
	"ampsflume/flume"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type recorder struct {
	mu     sync.Mutex
	events []*flume.Event
	fail   error
}

func (r *recorder) setFail(err error) { r.mu.Lock(); r.fail = err; r.mu.Unlock() }

func (r *recorder) got() []*flume.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*flume.Event(nil), r.events...)
}

func (r *recorder) ProcessEvent(e *flume.Event) error { return r.ProcessEventBatch([]*flume.Event{e}) }
func (r *recorder) ProcessEventBatch(ev []*flume.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.events = append(r.events, ev...)
	return nil
}

func start(t *testing.T, kv map[string]string, p flume.ChannelProcessor) *Source {
	t.Helper()
	props := map[string]string{"bind": "127.0.0.1", "port": "0"}
	for k, v := range kv {
		props[k] = v
	}
	cfg, err := ParseConfig(flume.MapContext(`source "r"`, props))
	if err != nil {
		t.Fatal(err)
	}
	s := New("r", cfg, p, nil)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return s
}

func dial(t *testing.T, s *Source) *avrorpc.Client {
	t.Helper()
	c, err := avrorpc.Dial(context.Background(), s.Addr().String(), avrorpc.ClientConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestCountersAndFailure(t *testing.T) {
	rec := &recorder{}
	s := start(t, nil, rec)
	c := dial(t, s)
	ctx := context.Background()
	batch := []*flume.Event{flume.NewEvent([]byte("a"), nil), flume.NewEvent([]byte("b"), map[string]string{"h": "v"})}
	if st, err := c.AppendBatch(ctx, batch); st != avrorpc.OK || err != nil {
		t.Fatalf("AppendBatch = %v, %v", st, err)
	}
	if st, err := c.Append(ctx, batch[0]); st != avrorpc.OK || err != nil {
		t.Fatalf("Append = %v, %v", st, err)
	}
	rec.setFail(flume.ErrChannelFull)
	if st, err := c.AppendBatch(ctx, batch); st != avrorpc.Failed || err != nil {
		t.Fatalf("AppendBatch into a full channel = %v, %v; want FAILED", st, err)
	}
	k := s.counter
	for name, got := range map[string]int64{
		"EventReceived": k.EventReceived.Load(), "EventAccepted": k.EventAccepted.Load(),
		"AppendBatchReceived": k.AppendBatchReceived.Load(), "AppendBatchAccepted": k.AppendBatchAccepted.Load(),
		"AppendReceived": k.AppendReceived.Load(), "AppendAccepted": k.AppendAccepted.Load(),
		"ChannelWriteFail": k.ChannelWriteFail.Load(), "OpenConnection": k.OpenConnection.Load(),
	} {
		want := map[string]int64{"EventReceived": 5, "EventAccepted": 3, "AppendBatchReceived": 2, "AppendBatchAccepted": 1,
			"AppendReceived": 1, "AppendAccepted": 1, "ChannelWriteFail": 1, "OpenConnection": 1}[name]
		if got != want {
			t.Errorf("%s = %d, want %d", name, got, want)
		}
	}
	if ev := rec.got(); len(ev) != 3 || ev[1].Headers["h"] != "v" {
		t.Fatalf("events = %+v", ev)
	}
}

func TestIPFilter(t *testing.T) {
	rec := &recorder{}
	s := start(t, map[string]string{"ipFilter": "true", "ipFilterRules": "deny:ip:127.*,allow:ip:*"}, rec)
	c, err := avrorpc.Dial(context.Background(), s.Addr().String(), avrorpc.ClientConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Append(context.Background(), flume.NewEvent([]byte("x"), nil)); err == nil {
		t.Fatal("denied client was served")
	}
	if len(rec.got()) != 0 {
		t.Fatal("denied client's event was delivered")
	}
}

func TestAllowed(t *testing.T) {
	addr := func(ip string) net.Addr { return &net.TCPAddr{IP: net.ParseIP(ip), Port: 1} }
	lookup := func(h string) []string {
		if h == "10.0.0.1" {
			return []string{"web1.example.com."}
		}
		return nil
	}
	cases := []struct {
		rules string
		ip    string
		want  bool
	}{
		{"allow:ip:10.*,deny:ip:*", "10.1.2.3", true},
		{"allow:ip:10.*,deny:ip:*", "192.168.0.1", false},
		{"deny:ip:192.168.*", "10.0.0.9", true},
		{"allow:name:web*.example.com,deny:ip:*", "10.0.0.1", true},
		{"allow:name:web*.example.com,deny:ip:*", "10.0.0.2", false},
	}
	for _, tc := range cases {
		rules, err := ParseRules(tc.rules)
		if err != nil {
			t.Fatal(err)
		}
		if got := allowed(rules, addr(tc.ip), lookup); got != tc.want {
			t.Errorf("%s for %s = %v, want %v", tc.rules, tc.ip, got, tc.want)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		kv  map[string]string
		key string
	}{
		{map[string]string{"port": "1"}, "bind"},
		{map[string]string{"bind": "0.0.0.0"}, "port"},
		{map[string]string{"bind": "0.0.0.0", "port": "x"}, "port"},
		{map[string]string{"bind": "0.0.0.0", "port": "1", "threads": "0"}, "threads"},
		{map[string]string{"bind": "0.0.0.0", "port": "1", "compression-type": "lz4"}, "compression-type"},
		{map[string]string{"bind": "0.0.0.0", "port": "1", "ipFilter": "true"}, "ipFilterRules"},
		{map[string]string{"bind": "0.0.0.0", "port": "1", "ipFilter": "true", "ipFilterRules": "maybe:ip:*"}, "ipFilterRules"},
	}
	for _, tc := range cases {
		_, err := ParseConfig(flume.MapContext(`source "r"`, tc.kv))
		var ce *flume.ConfigError
		if !errors.As(err, &ce) || ce.Key != tc.key {
			t.Errorf("%v: err = %v, want a ConfigError about %q", tc.kv, err, tc.key)
		}
	}
	// A port in use is a Start error naming the address.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg, _ := ParseConfig(flume.MapContext(`source "r"`, map[string]string{"bind": "127.0.0.1", "port": strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)}))
	if err := New("r", cfg, &recorder{}, nil).Start(context.Background()); err == nil {
		t.Fatal("Start on a port in use succeeded")
	}
}
