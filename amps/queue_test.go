package amps

import (
	"fmt"
	"testing"

	"ampsflume/ampserver"
)

func queueServer(t *testing.T) string {
	cfg := ampserver.DefaultConfig()
	cfg.TransactionLog = &ampserver.TransactionLogConfig{JournalDirectory: t.TempDir(), Topics: []ampserver.TopicRef{{Name: "Work", MessageType: "json"}}}
	cfg.Queues = []ampserver.QueueConfig{{Name: "WorkQ", UnderlyingTopic: "Work"}}
	s := startServer(t, cfg)
	return "tcp://" + s.TCPAddr().String() + "/amps/json"
}

func TestQueueAck(t *testing.T) {
	tests := []struct {
		name  string
		batch int
		ack   func(t *testing.T, c *Client, a *QueueAcker, m []*Message)
	}{
		{"Client.Ack, one command", 1, func(t *testing.T, c *Client, _ *QueueAcker, m []*Message) {
			n, err := c.Ack(testCtx(t), "WorkQ", m[0].Bookmark, m[1].Bookmark, m[2].Bookmark)
			if err != nil || n != 3 {
				t.Fatalf("Ack: %d, %v; want 3 deleted", n, err)
			}
		}},
		{"QueueAcker sends when the batch is full", 3, func(t *testing.T, _ *Client, a *QueueAcker, m []*Message) {
			for _, x := range m {
				if err := a.Add(x); err != nil {
					t.Fatal(err)
				}
			}
		}},
		{"QueueAcker.Flush sends a partial batch", 100, func(t *testing.T, _ *Client, a *QueueAcker, m []*Message) {
			for _, x := range m {
				if err := a.Add(x); err != nil {
					t.Fatal(err)
				}
			}
			if err := a.Flush(); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			uri := queueServer(t)
			pub := logon(t, uri, "pub")
			c := logon(t, uri, "worker")
			s, err := c.Execute(testCtx(t), Command{Name: CmdSubscribe, Topic: "WorkQ", Options: "max_backlog=3"})
			if err != nil {
				t.Fatal(err)
			}
			for i := range 4 {
				if err := pub.Publish("Work", []byte(fmt.Sprintf(`{"n":%d}`, i))); err != nil {
					t.Fatal(err)
				}
			}
			var got []*Message
			for len(got) < 3 {
				m, err := s.Next(testCtx(t))
				if err != nil {
					t.Fatal(err)
				}
				if !m.IsQueueMessage() || m.Bookmark == "" {
					t.Fatalf("not a queue message: %+v", m.Header)
				}
				got = append(got, m)
			}
			tt.ack(t, c, NewQueueAcker(c, tt.batch), got)
			// The backlog had room again only if the acks removed them.
			m, err := s.Next(testCtx(t))
			if err != nil {
				t.Fatal(err)
			}
			if string(m.Data) != `{"n":3}` {
				t.Fatalf("after the acks got %s, want the fourth message", m.Data)
			}
			n, err := c.Ack(testCtx(t), "WorkQ", m.Bookmark)
			if err != nil || n != 1 {
				t.Fatalf("Ack: %d, %v", n, err)
			}
			recs, err := c.Sow(testCtx(t), "WorkQ", "")
			if err != nil {
				t.Fatal(err)
			}
			if left := collect(t, recs); len(left) != 0 {
				t.Fatalf("queue not empty: %q", left)
			}
		})
	}
}
