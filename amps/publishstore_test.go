package amps

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"ampsflume/ampserver"
)

func TestPublishStores(t *testing.T) {
	stores := []struct {
		name string
		open func(t *testing.T) PublishStore
	}{
		{"memory", func(t *testing.T) PublishStore { return NewMemoryPublishStore() }},
		{"file", func(t *testing.T) PublishStore {
			s, err := OpenFilePublishStore(filepath.Join(t.TempDir(), "pub.store"))
			if err != nil {
				t.Fatal(err)
			}
			return s
		}},
	}
	for _, tc := range stores {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.open(t)
			defer s.Close()
			var seqs []uint64
			for i := 0; i < 5; i++ {
				cmd := Command{Name: CmdPublish, Topic: "T", Data: []byte(fmt.Sprint(i))}
				if err := s.Store(&cmd); err != nil {
					t.Fatal(err)
				}
				if !cmd.HasSeq || (i > 0 && cmd.Seq != seqs[i-1]+1) {
					t.Fatalf("store %d: seq %d after %v", i, cmd.Seq, seqs)
				}
				seqs = append(seqs, cmd.Seq)
			}
			if err := s.Discard(seqs[2]); err != nil {
				t.Fatal(err)
			}
			got := s.Unpersisted()
			if len(got) != 2 || got[0].Seq != seqs[3] || string(got[1].Data) != "4" || s.Len() != 2 {
				t.Fatalf("after discard: %+v", got)
			}
		})
	}
}

func TestFilePublishStoreRecovery(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pub.store")
	s, err := OpenFilePublishStore(path)
	if err != nil {
		t.Fatal(err)
	}
	var last uint64
	for i := 0; i < 4; i++ {
		cmd := Command{Name: CmdPublish, Topic: "T", Data: []byte(fmt.Sprint(i))}
		if err := s.Store(&cmd); err != nil {
			t.Fatal(err)
		}
		last = cmd.Seq
	}
	if err := s.Discard(last - 2); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// A torn final record (a crash mid-write) is dropped.
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	f.Write([]byte{40, 0, 0, 0, 1, 2, 3})
	f.Close()
	s2, err := OpenFilePublishStore(path)
	if err != nil {
		t.Fatal(err)
	}
	got := s2.Unpersisted()
	if len(got) != 2 || got[0].Seq != last-1 || string(got[1].Data) != "3" || got[1].Topic != "T" {
		t.Fatalf("recovered %+v", got)
	}
	next := Command{Name: CmdPublish, Topic: "T"}
	s2.Store(&next)
	if next.Seq <= last {
		t.Fatalf("numbering after recovery: %d, not above %d", next.Seq, last)
	}
	s2.Close()
	// Damage before the end is an error.
	data, _ := os.ReadFile(path)
	data[12] ^= 0xff
	os.WriteFile(path, data, 0o644)
	if _, err := OpenFilePublishStore(path); err == nil {
		t.Fatal("corrupt store opened")
	}
}

// A publisher with a store loses nothing and duplicates nothing across a
// server restart in the middle of publishing.
func TestHAPublishAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := ampserver.DefaultConfig()
	cfg.TransactionLog = &ampserver.TransactionLogConfig{JournalDirectory: dir, FlushInterval: time.Millisecond,
		Topics: []ampserver.TopicRef{{Name: "T", MessageType: "json"}}}
	newServer := func(addr string) *ampserver.Server {
		c := *cfg
		c.Transports = []ampserver.TransportConfig{{Name: "t", Type: "tcp", InetAddr: addr, Protocol: "amps", MessageType: "json"}}
		s, err := ampserver.New(&c, ampserver.WithLogger(slog.New(slog.DiscardHandler)))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		return s
	}
	srv := newServer("127.0.0.1:0")
	addr := srv.TCPAddr().String()
	uri := "tcp://" + addr + "/amps/json"
	h := NewHAClient("ha-pub", NewDefaultServerChooser(uri), []HAOption{WithPublishStore(NewMemoryPublishStore()), WithDelayStrategy(&ExponentialDelay{Initial: 20 * time.Millisecond, Max: 100 * time.Millisecond, Factor: 2})})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	h.Start(ctx)
	defer h.Close()
	for i := 0; i < 100; i++ {
		if err := h.Publish("T", []byte(fmt.Sprintf(`{"n":%d}`, i))); err != nil {
			t.Fatal(err)
		}
		if i == 50 {
			sctx, scancel := context.WithTimeout(ctx, 10*time.Second)
			srv.Shutdown(sctx)
			scancel()
			srv = newServer(addr)
		}
	}
	defer func() {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		srv.Shutdown(sctx)
	}()
	if err := h.WaitPersisted(ctx); err != nil {
		t.Fatal(err)
	}
	c := NewClient("reader")
	defer c.Close()
	if err := c.Connect(ctx, uri); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Logon(ctx); err != nil {
		t.Fatal(err)
	}
	st, err := c.Execute(ctx, Command{Name: CmdSubscribe, Topic: "T", Bookmark: "0", AckType: AckCompleted})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for i := 0; i < 100; i++ {
		m, err := st.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if m.Command == MsgAck {
			t.Fatalf("replay completed after %d messages", i)
		}
		if want := fmt.Sprintf(`{"n":%d}`, i); string(m.Data) != want {
			t.Fatalf("message %d: %s", i, m.Data)
		}
	}
	m, err := st.Next(ctx)
	if err != nil || m.Command != MsgAck {
		t.Fatalf("after 100 messages: %+v %v (a duplicate?)", m, err)
	}
}
