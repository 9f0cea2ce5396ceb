package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"ampsflume/amps"
	"ampsflume/ampserver"
)

// frozenClock stands still, so that the seconds a record has left are
// exact; its timers never fire.
type frozenClock struct{ now time.Time }

func (c frozenClock) Now() time.Time { return c.now }
func (c frozenClock) AfterFunc(time.Duration, func()) ampserver.Timer {
	return frozenTimer{}
}

type frozenTimer struct{}

func (frozenTimer) Stop() bool { return true }

// TestSowFormatExpiration: {expiration} prints the `e` header the server
// puts on SOW records that expire, and nothing for the others.
func TestSowFormatExpiration(t *testing.T) {
	cfg := ampserver.DefaultConfig()
	cfg.SOW = []ampserver.SOWTopicConfig{{Name: "Orders", MessageType: "json", Keys: []string{"/order_key"}, Expiration: time.Hour}}
	s, err := ampserver.New(cfg, ampserver.WithLogger(slog.New(slog.DiscardHandler)),
		ampserver.WithClock(frozenClock{now: time.Unix(1_700_000_000, 0)}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	addr := s.TCPAddr().String()

	pub := amps.NewClient("exp-pub")
	t.Cleanup(func() { _ = pub.Close() })
	if err := pub.Connect(ctx, "tcp://"+addr+"/amps/json"); err != nil {
		t.Fatal(err)
	}
	if _, err := pub.Logon(ctx); err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct{ data, e string }{
		{`{"order_key":1}`, ""},    // the topic's hour
		{`{"order_key":2}`, "120"}, // two minutes
		{`{"order_key":3}`, "0"},   // never
	} {
		if err := pub.Send(amps.Command{Name: amps.CmdPublish, Topic: "Orders", Data: []byte(p.data), Expiration: p.e}); err != nil {
			t.Fatal(err)
		}
	}
	if err := pub.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	out := spark(t, "", "sow", "-server", addr, "-topic", "Orders", "-orderby", "/order_key", "-format", "[{expiration}] {data}")
	want := "[3600] {\"order_key\":1}\n[120] {\"order_key\":2}\n[] {\"order_key\":3}\n"
	if !strings.HasPrefix(out, want) {
		t.Fatalf("sow output:\n%s\nwant:\n%s", out, want)
	}
}
