package amps

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"ampsflume/ampserver"
	"ampsflume/flume"
)

// journalServer starts an embedded server whose Orders topic is in the
// transaction log, at addr ("127.0.0.1:0" for any port) with its state in
// dir; it returns the server's URI and a stop function.
func journalServer(t *testing.T, dir, addr string) (uri string, stop func()) {
	t.Helper()
	cfg := ampserver.DefaultConfig()
	cfg.Transports[0].InetAddr = addr
	cfg.SOW = []ampserver.SOWTopicConfig{{Name: "Orders", MessageType: "json", Keys: []string{"/order_key"}, FileName: filepath.Join(dir, "%n.sow")}}
	cfg.TransactionLog = &ampserver.TransactionLogConfig{
		JournalDirectory: filepath.Join(dir, "journal"),
		FlushInterval:    5 * time.Millisecond,
		Topics:           []ampserver.TopicRef{{Name: "Orders", MessageType: "json"}},
	}
	s, err := ampserver.New(cfg, ampserver.WithLogger(quietLog))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop = func() {
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
	return "tcp://" + s.TCPAddr().String() + "/amps/json", stop
}

func bookmarkKV(uri, log string) map[string]string {
	return map[string]string{"uri": uri, "bookmarkLog": log, "subscriptionId": "Sub-100", "command": "subscribe"}
}

// TestBookmarkThroughServerRestart: the server restarts while the source
// runs; the source resumes from its bookmark store and the journal, and
// every message arrives exactly once.
func TestBookmarkThroughServerRestart(t *testing.T) {
	dir := t.TempDir()
	uri, stop := journalServer(t, dir, "127.0.0.1:0")
	addr := uri[len("tcp://") : len(uri)-len("/amps/json")]
	rec := &recorder{}
	s := liveSource(t, bookmarkKV(uri, filepath.Join(dir, "bookmarks.log")), rec)
	waitConnected(t, s, uri)
	p := publisher(t, uri)
	publish(t, p, 0, 50)
	pollUntil(t, s, rec, 50)

	stop()
	p.Close()
	uri2, _ := journalServer(t, dir, addr)
	if uri2 != uri {
		t.Fatalf("restarted at %s, want %s", uri2, uri)
	}
	waitFor(t, "the source to reconnect", func() bool { return metric(s, "ReconnectCount") == 1 })
	waitConnected(t, s, uri)
	p2 := publisher(t, uri)
	publish(t, p2, 50, 100)
	pollUntil(t, s, rec, 100)
	mustProcess(t, s, flume.Backoff) // nothing more
	if got := rec.committed(); !slices.Equal(got, orders(0, 100)) {
		t.Fatalf("got %d events, want orders 0..99 exactly once", len(got))
	}
}

// TestBookmarkThroughSourceRestart: a source stops gracefully, messages are
// published meanwhile, and a new source with the same bookmark log picks up
// exactly where the first one committed.
func TestBookmarkThroughSourceRestart(t *testing.T) {
	dir := t.TempDir()
	uri, _ := journalServer(t, dir, "127.0.0.1:0")
	log := filepath.Join(dir, "bookmarks.log")
	p := publisher(t, uri)
	publish(t, p, 0, 20) // before any source: replayed from EPOCH

	rec1 := &recorder{}
	s1 := liveSource(t, bookmarkKV(uri, log), rec1)
	publish(t, p, 20, 40)
	pollUntil(t, s1, rec1, 40)
	publish(t, p, 40, 45) // may be in flight at the stop
	if err := s1.Stop(); err != nil {
		t.Fatal(err)
	}
	publish(t, p, 45, 70)

	rec2 := &recorder{}
	s2 := liveSource(t, bookmarkKV(uri, log), rec2)
	n1 := len(rec1.committed())
	pollUntil(t, s2, rec2, 70-n1)
	publish(t, p, 70, 80)
	pollUntil(t, s2, rec2, 80-n1)
	mustProcess(t, s2, flume.Backoff)
	got := append(rec1.committed(), rec2.committed()...)
	if !slices.Equal(got, orders(0, 80)) {
		t.Fatalf("got %d events (%d then %d), want orders 0..79 exactly once", len(got), n1, len(rec2.committed()))
	}
}
