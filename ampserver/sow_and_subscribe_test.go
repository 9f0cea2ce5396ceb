package ampserver

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"ampsflume/amps/wire"
)

// TestSOWAndSubscribeConcurrent checks the no-gap/no-duplicate guarantee:
// publishers keep updating keys while a client runs sow_and_subscribe; the
// snapshot plus the live messages after group_end must contain, per key,
// exactly the versions after the snapshot's, in order, ending with the last.
func TestSOWAndSubscribeConcurrent(t *testing.T) {
	s := startServer(t, ordersConfig(""))
	const keys, pubs = 20, 2
	var wg sync.WaitGroup
	start, stop := make(chan struct{}), make(chan struct{})
	final := make([]int, keys) // last version published per key
	for p := 0; p < pubs; p++ {
		c := dial(t, s.TCPAddr())
		c.logon(fmt.Sprint("pub", p))
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for v := 1; ; v++ {
				for k := p; k < keys; k += pubs {
					if err := c.trySend(wire.Header{Command: "p", Topic: "Orders"}, fmt.Sprintf(`{"order_key":%d,"v":%d}`, k, v)); err != nil {
						t.Error(err)
						return
					}
					final[k] = v
				}
				select {
				case <-stop:
					if err := c.trySend(wire.Header{Command: "flush", CommandID: "f", AckType: "processed"}, ""); err != nil {
						t.Error(err)
						return
					}
					for m := range c.in {
						if m.h.CommandID == "f" {
							return
						}
					}
					t.Error("publisher connection closed before its flush ack")
					return
				default:
				}
			}
		}()
	}
	sub := dial(t, s.TCPAddr())
	sub.logon("sub")
	close(start)
	// Let the publishers get going so that the query races with them.
	waitFor(t, "publishes", func() bool {
		for _, tp := range s.Status().Topics {
			if tp.Name == "Orders" && tp.SOWRecords == keys && tp.MessagesIn > 200 {
				return true
			}
		}
		return false
	})
	sub.send(wire.Header{Command: "sow_and_subscribe", CommandID: "q", Topic: "Orders", BatchSize: 7, AckType: "processed"}, "")
	sub.expectAck("processed", "success")
	m := sub.recv()
	require(t, m.h.Command == "group_begin" && m.h.QueryID == "q", "want group_begin, got %+v", m.h)
	last := map[int]int{}
	type doc struct{ K, V int }
	parse := func(b string) doc {
		var d struct {
			K int `json:"order_key"`
			V int `json:"v"`
		}
		noErr(t, json.Unmarshal([]byte(b), &d))
		return doc{d.K, d.V}
	}
	for {
		m = sub.recv()
		if m.h.Command == "group_end" {
			break
		}
		require(t, m.h.Command == "sow", "want sow, got %+v", m.h)
		for _, r := range m.records {
			d := parse(r.data)
			_, dup := last[d.K]
			require(t, !dup, "key %d twice in snapshot", d.K)
			last[d.K] = d.V
		}
	}
	// Keep publishing a little after the subscription is live.
	for i := 0; i < 50; i++ {
		m = sub.recv()
		require(t, m.h.Command == "p", "want delivery, got %+v", m.h)
		d := parse(string(m.payload))
		require(t, d.V == last[d.K]+1, "key %d: got version %d after %d (gap or duplicate)", d.K, d.V, last[d.K])
		last[d.K] = d.V
	}
	close(stop)
	wg.Wait()
	done := func() bool {
		for k, v := range final {
			if last[k] != v {
				return false
			}
		}
		return true
	}
	for !done() {
		m = sub.recv()
		require(t, m.h.Command == "p" && m.h.SubIDs == "q", "want delivery, got %+v", m.h)
		d := parse(string(m.payload))
		prev, ok := last[d.K]
		want := prev + 1
		if !ok {
			want = 1
		}
		require(t, d.V == want, "key %d: got version %d after %d (gap or duplicate)", d.K, d.V, prev)
		last[d.K] = d.V
	}
	// Nothing else may follow.
	sub.send(wire.Header{Command: "flush", CommandID: "end", AckType: "processed"}, "")
	m = sub.recv()
	require(t, m.h.Command == "ack" && m.h.CommandID == "end", "extra message %+v %s", m.h, m.payload)
}

func TestSOWAndSubscribeNonSOWTopic(t *testing.T) {
	s := startServer(t, ordersConfig(""))
	c := dial(t, s.TCPAddr())
	c.logon("n")
	c.send(wire.Header{Command: "sow_and_subscribe", CommandID: "q", SubID: "sub", Topic: "plain", AckType: "processed"}, "")
	ack := c.expectAck("processed", "success")
	require(t, ack.QueryID == "sub" && ack.SubID == "sub", "ack %+v", ack)
	require(t, c.recv().h.Command == "group_begin", "")
	require(t, c.recv().h.Command == "group_end", "")
	c.send(wire.Header{Command: "p", Topic: "plain"}, "hello")
	m := c.recv()
	require(t, m.h.Command == "p" && string(m.payload) == "hello" && m.h.SubIDs == "sub", "got %+v", m.h)
}
