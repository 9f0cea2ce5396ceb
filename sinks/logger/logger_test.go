package logger

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"ampsflume/channels/memory"
	"ampsflume/flume"
)

func TestDumpEvent(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		headers  map[string]string
		maxBytes int
		want     string
	}{
		// The example of Flume's user guide.
		{"user guide", "Hello world!\r", nil, 16,
			"{ headers:{} body: 48 65 6C 6C 6F 20 77 6F 72 6C 64 21 0D          Hello world!. }"},
		{"empty body", "", map[string]string{"b": "2", "a": "1"}, 16, "{ headers:{a=1, b=2} body: }"},
		{"truncated to 16", "0123456789abcdefXYZ", nil, 16,
			"{ headers:{} body: 30 31 32 33 34 35 36 37 38 39 61 62 63 64 65 66 0123456789abcdef }"},
		{"maxBytes 4", "\x00\x7f\x80\xffzz", map[string]string{"k": ""}, 4,
			"{ headers:{k=} body: 00 7F 80 FF                                     .... }"},
		{"maxBytes 0", "abc", nil, 0, "{ headers:{} body: }"},
		{"two lines", "0123456789abcdefXY", nil, 32,
			"{ headers:{} body: 30 31 32 33 34 35 36 37 38 39 61 62 63 64 65 66 0123456789abcdef\n" +
				"00000010 58 59                                           XY }"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DumpEvent(flume.NewEvent([]byte(tt.body), tt.headers), tt.maxBytes)
			if got != tt.want {
				t.Fatalf("got\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestProcessLogsAtInfo(t *testing.T) {
	cfg := memory.DefaultConfig()
	cfg.KeepAlive, cfg.ByteCapacity = 0, 0
	ch, err := memory.New("c1", cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = ch.Start(context.Background())
	t.Cleanup(func() { _ = ch.Stop() })
	tx := ch.NewTransaction()
	_ = tx.Begin()
	_ = tx.Put(flume.NewEvent([]byte("hi"), map[string]string{"h": "v"}))
	_ = tx.Put(flume.NewEvent([]byte("there"), nil))
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	_ = tx.Close()

	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	s, err := New("k1", 16, ch, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []flume.Status{flume.Ready, flume.Ready, flume.Backoff} {
		if st, err := s.Process(context.Background()); err != nil || st != want {
			t.Fatalf("Process #%d = %v, %v", i, st, err)
		}
	}
	out := buf.String()
	if strings.Count(out, "level=INFO") != 2 ||
		!strings.Contains(out, `msg="Event: { headers:{h=v} body: 68 69`) ||
		!strings.Contains(out, `msg="Event: { headers:{} body: 74 68 65 72 65`) {
		t.Fatalf("log output:\n%s", out)
	}
	if s.Counter().EventDrainSuccess.Load() != 2 || s.Counter().BatchEmpty.Load() != 1 {
		t.Fatal("counters not maintained")
	}
}

func TestConfig(t *testing.T) {
	r, ok := flume.Lookup(flume.KindSink, "org.apache.flume.sink.LoggerSink")
	if !ok {
		t.Fatal("not registered")
	}
	_, err := r.Sink(flume.SinkEnv{Name: "k1", Config: flume.MapContext(`sink "k1"`, map[string]string{"maxBytesToLog": "-1"})})
	var ce *flume.ConfigError
	if !errors.As(err, &ce) || ce.Key != "maxBytesToLog" {
		t.Fatalf("err = %v", err)
	}
}
