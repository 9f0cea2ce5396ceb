package amps

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"ampsflume/ampserver"
)

func TestIsBookmarkRange(t *testing.T) {
	for _, tc := range []struct {
		bm   string
		want bool
	}{
		{"[0:1|5|]", true},
		{"(1|2|:1|5|)", true},
		{"[20260101T000000Z:0|1|)", true},
		{" (1|2|,3|4|:1|9|] ", true},
		{"", false},
		{"0", false},
		{"0|1|", false},
		{"1|2|,3|4|", false},
		{"20260101T000000Z", false},
		{"[1|2|]", false}, // no end: not a range
		{"[", false},
		{"[:", false},
	} {
		if got := IsBookmarkRange(tc.bm); got != tc.want {
			t.Errorf("IsBookmarkRange(%q) = %v, want %v", tc.bm, got, tc.want)
		}
	}
}

// TestRangeSubscriptionEnds checks that a bookmark range subscription ends
// on the client when the server completes the range: a stream's Next
// returns io.EOF after the last message of the range, and an HA
// subscription ends there too instead of being placed again when the
// client reconnects.
func TestRangeSubscriptionEnds(t *testing.T) {
	dir := t.TempDir()
	cfg := ampserver.DefaultConfig()
	cfg.TransactionLog = &ampserver.TransactionLogConfig{JournalDirectory: dir, FlushInterval: time.Millisecond,
		Topics: []ampserver.TopicRef{{Name: "T", MessageType: "json"}}}
	srv, err := ampserver.New(cfg, ampserver.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	uri := "tcp://" + srv.TCPAddr().String() + "/amps/json"
	ctx := testCtx(t)

	pub := NewClient("range-pub")
	if err := pub.Connect(ctx, uri); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pub.Close() })
	if _, err := pub.Logon(ctx); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 6; i++ {
		if err := pub.Publish("T", []byte(fmt.Sprintf(`{"n":%d}`, i))); err != nil {
			t.Fatal(err)
		}
	}
	// Read the journal back to learn the bookmarks of messages 2 and 4.
	all := readRange(t, ctx, uri, "range-all", "0", 6, false)
	from, to := all[1].Bookmark, all[3].Bookmark

	t.Run("stream", func(t *testing.T) {
		got := readRange(t, ctx, uri, "range-stream", "("+from+":"+to+"]", 2, true)
		if string(got[0].Data) != `{"n":3}` || string(got[1].Data) != `{"n":4}` {
			t.Fatalf("range (2:4] delivered %s, %s", got[0].Data, got[1].Data)
		}
	})

	t.Run("ha", func(t *testing.T) {
		h := NewHAClient("range-ha", NewDefaultServerChooser(uri),
			[]HAOption{WithDelayStrategy(&ExponentialDelay{Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond, Factor: 2})})
		rng := "[" + from + ":" + to + ")"
		sub, err := h.Subscribe(Command{Name: CmdSubscribe, Topic: "T", SubID: "r"}, func() string { return rng })
		if err != nil {
			t.Fatal(err)
		}
		h.Start(ctx)
		t.Cleanup(func() { h.Close() })
		var got []string
		for {
			m, err := sub.Next(ctx)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("after %v: %v", got, err)
			}
			if m.Command == MsgPublish {
				got = append(got, string(m.Data))
			}
		}
		if fmt.Sprint(got) != `[{"n":2} {"n":3}]` {
			t.Fatalf("range [2:4) delivered %v", got)
		}
		if !errors.Is(sub.Err(), io.EOF) {
			t.Fatalf("Err() = %v, want io.EOF", sub.Err())
		}
	})
}

// readRange subscribes with bm and reads n publishes; with wantEnd, it then
// expects the subscription to end (io.EOF) rather than wait for more.
func readRange(t *testing.T, ctx context.Context, uri, name, bm string, n int, wantEnd bool) []*Message {
	t.Helper()
	c := NewClient(name)
	if err := c.Connect(ctx, uri); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Logon(ctx); err != nil {
		t.Fatal(err)
	}
	st, err := c.Execute(ctx, Command{Name: CmdSubscribe, Topic: "T", Bookmark: bm})
	if err != nil {
		t.Fatal(err)
	}
	var got []*Message
	for len(got) < n {
		m, err := st.Next(ctx)
		if err != nil {
			t.Fatalf("%s: after %d messages: %v", bm, len(got), err)
		}
		if m.Command == MsgPublish {
			got = append(got, m)
		}
	}
	if wantEnd {
		for {
			m, err := st.Next(ctx)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: want io.EOF after the range, got %v", bm, err)
			}
			if m.Command == MsgPublish {
				t.Fatalf("%s: a message after the range: %s", bm, m.Data)
			}
		}
	}
	return got
}
