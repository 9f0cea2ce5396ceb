package bookmark_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"go.uber.org/goleak"

	"ampsflume/amps"
	"ampsflume/amps/bookmark"
	"ampsflume/ampserver"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// rangeServer starts the embedded server with Orders in a transaction log
// kept in dir; a second call with the same dir is a restart.
func rangeServer(t *testing.T, dir string) (*ampserver.Server, string) {
	t.Helper()
	cfg := ampserver.DefaultConfig()
	cfg.SOW = []ampserver.SOWTopicConfig{{Name: "Orders", MessageType: "json", Keys: []string{"/order_key"}, FileName: dir + "/%n.sow"}}
	cfg.TransactionLog = &ampserver.TransactionLogConfig{
		JournalDirectory: dir + "/journal",
		FlushInterval:    time.Millisecond,
		Topics:           []ampserver.TopicRef{{Name: "Orders", MessageType: "json"}},
	}
	s, err := ampserver.New(cfg, ampserver.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	}
	t.Cleanup(stop)
	return s, "tcp://" + s.TCPAddr().String() + "/amps/json"
}

func orderN(t *testing.T, m *amps.Message) int {
	t.Helper()
	var v struct{ N int }
	if err := json.Unmarshal(m.Data, &v); err != nil {
		t.Fatalf("message %q: %v", m.Data, err)
	}
	return v.N
}

// rangeClient subscribes to rng through an HA client whose resume point
// comes from store.
func rangeClient(t *testing.T, uri string, store bookmark.Store, rng string) (*amps.HAClient, *amps.HASubscription) {
	t.Helper()
	if err := store.Log("r1", rng); err != nil {
		t.Fatal(err)
	}
	h := amps.NewHAClient("range-reader", amps.NewDefaultServerChooser(uri), nil)
	sub, err := h.Subscribe(amps.Command{Name: amps.CmdSubscribe, Topic: "Orders", SubID: "r1", AckType: amps.AckCompleted},
		func() string { return store.MostRecent("r1") })
	if err != nil {
		t.Fatal(err)
	}
	h.Start(context.Background())
	t.Cleanup(func() { h.Close() })
	return h, sub
}

// TestRangeResumeEndToEnd: a range subscription is read in part, the
// reader and the server restart, and the resumed subscription delivers
// exactly the rest of the range, once, then the completed ack.
func TestRangeResumeEndToEnd(t *testing.T) {
	dir := t.TempDir()
	storePath := filepath.Join(dir, "bookmarks.log")
	srv, uri := rangeServer(t, dir)

	pub := amps.NewClient("publisher")
	t.Cleanup(func() { pub.Close() })
	if err := pub.Connect(testCtx(t), uri); err != nil {
		t.Fatal(err)
	}
	if _, err := pub.Logon(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		if err := pub.Publish("Orders", []byte(`{"order_key":`+strconv.Itoa(i)+`,"n":`+strconv.Itoa(i)+`}`)); err != nil {
			t.Fatal(err)
		}
	}
	if err := pub.Flush(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	pub.Close()

	// The bookmarks of the ten messages, from a replay of the whole log.
	var bms []string
	{
		c := amps.NewClient("scout")
		if err := c.Connect(testCtx(t), uri); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Logon(testCtx(t)); err != nil {
			t.Fatal(err)
		}
		st, err := c.Execute(testCtx(t), amps.Command{Name: amps.CmdSubscribe, Topic: "Orders", Bookmark: bookmark.Epoch})
		if err != nil {
			t.Fatal(err)
		}
		for len(bms) < 10 {
			m, err := st.Next(testCtx(t))
			if err != nil {
				t.Fatal(err)
			}
			if m.Command == amps.MsgAck {
				continue
			}
			if orderN(t, m) != len(bms) {
				t.Fatalf("replay gave order %d at position %d", orderN(t, m), len(bms))
			}
			bms = append(bms, m.Bookmark)
		}
		c.Close()
	}

	// Messages 1 to 7: the start and the end are both inclusive.
	rng := "[" + bms[1] + ":" + bms[7] + "]"
	store, err := bookmark.OpenLogged(storePath, bookmark.LoggedOptions{Sync: true})
	if err != nil {
		t.Fatal(err)
	}
	h, sub := rangeClient(t, uri, store, rng)
	for want := 1; want <= 3; want++ {
		m, err := sub.Next(testCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		if m.Command == amps.MsgAck {
			t.Fatalf("ack %s before message %d", m.AckType, want)
		}
		if got := orderN(t, m); got != want {
			t.Fatalf("first reader got order %d, want %d", got, want)
		}
		if err := store.Log("r1", m.Bookmark); err != nil {
			t.Fatal(err)
		}
		// Message 3 is received but the reader stops before it is done
		// with it: it must come again.
		if want < 3 {
			if err := store.Discard("r1", m.Bookmark); err != nil {
				t.Fatal(err)
			}
		}
	}
	h.Close()
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}

	// Restart the server on the same journal, and publish past the end:
	// those messages are not part of the range.
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		t.Fatal(err)
	}
	_, uri = rangeServer(t, dir)
	pub2 := amps.NewClient("publisher")
	t.Cleanup(func() { pub2.Close() })
	if err := pub2.Connect(testCtx(t), uri); err != nil {
		t.Fatal(err)
	}
	if _, err := pub2.Logon(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	for i := 10; i < 12; i++ {
		if err := pub2.Publish("Orders", []byte(`{"order_key":`+strconv.Itoa(i)+`,"n":`+strconv.Itoa(i)+`}`)); err != nil {
			t.Fatal(err)
		}
	}
	if err := pub2.Flush(testCtx(t)); err != nil {
		t.Fatal(err)
	}

	store, err = bookmark.OpenLogged(storePath, bookmark.LoggedOptions{Sync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if got, want := store.MostRecent("r1"), "("+bms[2]+":"+bms[7]+"]"; got != want {
		t.Fatalf("recovered MostRecent = %q, want %q", got, want)
	}
	_, sub = rangeClient(t, uri, store, rng)
	var got []int
	for {
		m, err := sub.Next(testCtx(t))
		if err != nil {
			t.Fatalf("after %v: %v", got, err)
		}
		if m.Command == amps.MsgAck {
			if m.AckType != amps.AckCompleted {
				t.Fatalf("unexpected %s ack", m.AckType)
			}
			break
		}
		if store.IsDiscarded("r1", m.Bookmark) {
			t.Fatalf("order %d redelivered as a duplicate", orderN(t, m))
		}
		if err := store.Log("r1", m.Bookmark); err != nil {
			t.Fatal(err)
		}
		if err := store.Discard("r1", m.Bookmark); err != nil {
			t.Fatal(err)
		}
		got = append(got, orderN(t, m))
	}
	want := []int{3, 4, 5, 6, 7}
	if len(got) != len(want) {
		t.Fatalf("resumed range delivered %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("resumed range delivered %v, want %v", got, want)
		}
	}
	if got, want := store.MostRecent("r1"), "("+bms[7]+":"+bms[7]+"]"; got != want {
		t.Fatalf("MostRecent after the whole range = %q, want %q", got, want)
	}
}
