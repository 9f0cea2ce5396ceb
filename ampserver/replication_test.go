package ampserver

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ampsflume/amps"
	"ampsflume/amps/wire"
	"ampsflume/ampserver/repl"
)

// freePort reserves a loopback port for a configuration that must name it
// before the server starts.
func freePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	noErr(t, err)
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// replicaConfig is journalConfig named name, receiving on in and sending to
// each of dests (name=addr).
func replicaConfig(dir, name, in, syncType string, dests map[string]string) *Config {
	cfg := journalConfig(dir)
	cfg.Name = name
	cfg.TransactionLog.JournalDirectory = filepath.Join(dir, "journal")
	cfg.Transports = append(cfg.Transports, TransportConfig{Name: "repl", Type: TransportReplication, InetAddr: in, Protocol: "amps"})
	rc := &ReplicationConfig{Secret: "s3cret"}
	for n, addr := range dests {
		rc.Destinations = append(rc.Destinations, DestinationConfig{
			Name: n, SyncType: syncType, InetAddr: addr,
			Topics: []TopicRef{{Name: "Orders", MessageType: "json"}, {Name: "Log.*", MessageType: "json"}},
		})
	}
	cfg.Replication = rc
	return cfg
}

type pair struct {
	a, b         *Server
	dirA, dirB   string
	replA, replB string
	cfgA, cfgB   *Config
}

func startPair(t *testing.T, syncType string) *pair {
	t.Helper()
	p := &pair{dirA: t.TempDir(), dirB: t.TempDir(), replA: freePort(t), replB: freePort(t)}
	p.cfgA = replicaConfig(p.dirA, "A", p.replA, syncType, map[string]string{"B": p.replB})
	p.cfgB = replicaConfig(p.dirB, "B", p.replB, syncType, map[string]string{"A": p.replA})
	p.a = startServer(t, p.cfgA)
	p.b = startServer(t, p.cfgB)
	return p
}

// linkUp waits until s's link to its destination is connected.
func linkUp(t testing.TB, s *Server) {
	waitFor(t, "replication link up", func() bool {
		_, ok := s.repl.links[0].effective()
		return ok
	})
}

func sendSeq(t testing.TB, c *amps.Client, seq uint64, n int) {
	t.Helper()
	noErr(t, c.Send(amps.Command{Name: amps.CmdPublish, Topic: "Orders", Seq: seq, HasSeq: true, AckType: "persisted",
		Data: []byte(fmt.Sprintf(`{"order_key":%d,"n":%d}`, n, n))}))
}

func TestReplicationPairExactlyOnce(t *testing.T) {
	p := startPair(t, "sync")
	linkUp(t, p.a)
	linkUp(t, p.b)
	subA := bookmarkSub(t, ampsClient(t, p.a, "subA"), "Orders", "0", "", "")
	subB := bookmarkSub(t, ampsClient(t, p.b, "subB"), "Orders", "0", "", "")
	pa := ampsClient(t, p.a, "pubA")
	pb := ampsClient(t, p.b, "pubB")
	for i := 0; i < 50; i++ {
		sendSeq(t, pa, uint64(i+1), i)
		sendSeq(t, pb, uint64(i+1), 100+i)
	}
	gotA, _ := collectN(t, subA, 100)
	gotB, _ := collectN(t, subB, 100)
	count := func(ms []*amps.Message) map[string]string {
		seen := map[string]string{}
		for _, m := range ms {
			k := string(m.Data)
			if _, dup := seen[k]; dup {
				t.Fatalf("duplicate %s", k)
			}
			seen[k] = m.Bookmark
		}
		return seen
	}
	ca, cb := count(gotA), count(gotB)
	require(t, len(ca) == 100 && len(cb) == 100, "A %d, B %d distinct", len(ca), len(cb))
	for k, bm := range ca {
		require(t, cb[k] == bm, "message %s: bookmark %q on A, %q on B", k, bm, cb[k])
	}
	// No ping-pong: each journal holds each message once.
	for _, s := range []*Server{p.a, p.b} {
		waitFor(t, "journals settle", func() bool { return s.jr.log.NextSeq()-1 == 100 })
		sow, _ := dial(t, s.TCPAddr()).query(wire.Header{Topic: "Orders", BatchSize: 1000})
		require(t, len(sow) == 100, "%s SOW has %d records", s.cfg.Name, len(sow))
	}
}

func TestReplicationRepublishToPeerIsDropped(t *testing.T) {
	p := startPair(t, "sync")
	linkUp(t, p.a)
	pub := ampsClient(t, p.a, "pubstore")
	acked := make(chan uint64, 100)
	pub.OnPersisted(func(seq uint64) { acked <- seq })
	for i := 1; i <= 3; i++ {
		sendSeq(t, pub, uint64(i), i)
	}
	waitSeq(t, acked, 3)
	pub.Close()
	// The publisher fails over to B: B knows its sequence from A.
	c2 := amps.NewClient("pubstore")
	t.Cleanup(func() { c2.Close() })
	noErr(t, c2.Connect(ctxT(t), uriOf(p.b)))
	info, err := c2.Logon(ctxT(t))
	noErr(t, err)
	require(t, info.Seq == 3, "logon on B: seq %d, want 3", info.Seq)
	acked2 := make(chan uint64, 100)
	c2.OnPersisted(func(seq uint64) { acked2 <- seq })
	sendSeq(t, c2, 2, 99) // republished: already replicated
	sendSeq(t, c2, 4, 4)
	waitSeq(t, acked2, 4)
	st := bookmarkSub(t, ampsClient(t, p.b, "sub"), "Orders", "0", "", "")
	got, _ := collectN(t, st, 4)
	require(t, ns(got) == "1,2,3,4", "B delivers %s", ns(got))
	waitFor(t, "A has the publish made on B", func() bool { return p.a.jr.log.NextSeq()-1 == 4 })
}

func waitSeq(t testing.TB, ch chan uint64, want uint64) {
	t.Helper()
	ctx := ctxT(t)
	for {
		select {
		case got := <-ch:
			if got >= want {
				return
			}
		case <-ctx.Done():
			t.Fatalf("no persisted ack for %d", want)
		}
	}
}

func TestReplicationBookmarkResumesOnPeer(t *testing.T) {
	p := startPair(t, "sync")
	linkUp(t, p.a)
	pub := ampsClient(t, p.a, "pub")
	for i := 1; i <= 10; i++ {
		sendSeq(t, pub, uint64(i), i)
	}
	st := bookmarkSub(t, ampsClient(t, p.a, "subA"), "Orders", "0", "", "")
	got, _ := collectN(t, st, 10)
	waitFor(t, "B has everything", func() bool { return p.b.jr.log.NextSeq()-1 == 10 })
	// Resume on B after the 6th message of A; and from a bookmark B never
	// saw (beyond its journal) the replay starts after what B has.
	stB := bookmarkSub(t, ampsClient(t, p.b, "subB"), "Orders", got[5].Bookmark, "", "")
	rest, _ := collectN(t, stB, 4)
	require(t, ns(rest) == "7,8,9,10", "resumed on B: %s", ns(rest))
	list := got[2].Bookmark + ",0|1|"
	stL := bookmarkSub(t, ampsClient(t, p.b, "subL"), "Orders", list, "", "")
	rest, _ = collectN(t, stL, 7)
	require(t, ns(rest) == "4,5,6,7,8,9,10", "resumed on B from a list: %s", ns(rest))
}

func TestReplicationCatchUp(t *testing.T) {
	p := startPair(t, "sync")
	linkUp(t, p.a)
	pub := ampsClient(t, p.a, "pub")
	acked := make(chan uint64, 1000)
	pub.OnPersisted(func(seq uint64) { acked <- seq })
	for i := 1; i <= 10; i++ {
		sendSeq(t, pub, uint64(i), i)
	}
	waitSeq(t, acked, 10)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	noErr(t, p.b.Shutdown(ctx))
	// B is down: sync degrades, publishes are still acknowledged.
	for i := 11; i <= 60; i++ {
		sendSeq(t, pub, uint64(i), i)
	}
	waitSeq(t, acked, 60)
	b2 := startServer(t, p.cfgB)
	waitFor(t, "B caught up", func() bool { return b2.jr.log.NextSeq()-1 == 60 })
	st := bookmarkSub(t, ampsClient(t, b2, "sub"), "Orders", "0", "", "")
	got, _ := collectN(t, st, 60)
	require(t, ns(got) == seqRange(1, 61), "B after catch-up: %s", ns(got))
	require(t, p.a.jr.log.NextSeq()-1 == 60, "A journal %d", p.a.jr.log.NextSeq()-1)
}

// fakePeer accepts one replication link and hands its records to the test,
// acknowledging only when told.
type fakePeer struct {
	ln   net.Listener
	recs chan repl.Record
	ack  chan uint64
}

func newFakePeer(t *testing.T) *fakePeer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	noErr(t, err)
	fp := &fakePeer{ln: ln, recs: make(chan repl.Record, 100), ack: make(chan uint64, 100)}
	t.Cleanup(func() { ln.Close() })
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		rd := repl.NewReader(nc)
		if typ, body, err := rd.Next(); err != nil || typ != repl.THello {
			return
		} else if h, err := repl.DecodeHello(body); err != nil || h.Password != "s3cret" {
			nc.Write(repl.AppendRefused(nil, "auth failure"))
			return
		}
		nc.Write(repl.AppendWelcome(nil, &repl.Welcome{Instance: "F"}))
		go func() {
			for seq := range fp.ack {
				if _, err := nc.Write(repl.AppendAck(nil, seq)); err != nil {
					return
				}
			}
		}()
		for {
			typ, body, err := rd.Next()
			if err == nil && typ == repl.THeartbeat {
				continue
			}
			if err != nil || typ != repl.TRecord {
				return
			}
			var r repl.Record
			if repl.DecodeRecord(body, &r) != nil {
				return
			}
			r.Data = append([]byte(nil), r.Data...)
			fp.recs <- r
		}
	}()
	t.Cleanup(func() { close(fp.ack) })
	return fp
}

func TestReplicationSyncAckWaitsForPeer(t *testing.T) {
	for _, syncType := range []string{"sync", "async"} {
		t.Run(syncType, func(t *testing.T) {
			fp := newFakePeer(t)
			dir := t.TempDir()
			s := startServer(t, replicaConfig(dir, "A", "127.0.0.1:0", syncType, map[string]string{"F": fp.ln.Addr().String()}))
			linkUp(t, s)
			pub := ampsClient(t, s, "pub")
			acked := make(chan uint64, 10)
			pub.OnPersisted(func(seq uint64) { acked <- seq })
			sendSeq(t, pub, 7, 1)
			var r repl.Record
			select {
			case r = <-fp.recs:
			case <-ctxT(t).Done():
				t.Fatal("no record reached the peer")
			}
			require(t, r.Client == "pub" && r.ClientSeq == 7 && strings.Contains(string(r.Data), `"n":1`), "record %+v", r)
			waitFor(t, "local journal durable", func() bool { return s.jr.log.Durable() >= r.Seq })
			s.acksChanged()
			if syncType == "async" {
				waitSeq(t, acked, 7)
				return
			}
			select {
			case seq := <-acked:
				t.Fatalf("persisted ack %d before the sync peer persisted", seq)
			default:
			}
			fp.ack <- r.Seq
			waitSeq(t, acked, 7)
		})
	}
}

func TestReplicationRefusesBadSecret(t *testing.T) {
	in := freePort(t)
	b := startServer(t, replicaConfig(t.TempDir(), "B", in, "async", nil))
	cfgA := replicaConfig(t.TempDir(), "A", "127.0.0.1:0", "async", map[string]string{"B": in})
	cfgA.Replication.Secret = "wrong"
	a := startServer(t, cfgA)
	pub := ampsClient(t, a, "pub")
	publishN(t, pub, "Orders", 0, 3)
	nc, err := net.Dial("tcp", in)
	noErr(t, err)
	defer nc.Close()
	nc.Write(repl.AppendHello(nil, &repl.Hello{Version: repl.Version, Instance: "X", Password: "nope"}))
	typ, body, err := repl.NewReader(nc).Next()
	noErr(t, err)
	reason, _ := repl.DecodeRefused(body)
	require(t, typ == repl.TRefused && reason == "auth failure", "got %c %q", typ, reason)
	_, ok := a.repl.links[0].effective()
	require(t, !ok, "link with a wrong secret is up")
	require(t, b.jr.log.NextSeq() == 1, "B journaled records from a refused peer")
}

func TestReplicationConfig(t *testing.T) {
	const base = `<AMPSConfig><Name>A</Name>
<Transports><Transport><Name>r</Name><Type>amps-replication</Type><InetAddr>10005</InetAddr></Transport></Transports>
<TransactionLog><JournalDirectory>j</JournalDirectory><Topic><Name>Orders</Name></Topic></TransactionLog>
<Replication>%s</Replication></AMPSConfig>`
	good := `<Secret>x</Secret><HeartbeatInterval>2s</HeartbeatInterval><Destination><Name>B</Name><Group>g</Group><SyncType>sync</SyncType>
<HeartbeatInterval>250ms</HeartbeatInterval><Topic><Name>Orders</Name><MessageType>json</MessageType></Topic>
<Transport><Type>amps-replication</Type><InetAddr>u:p@host:10006</InetAddr></Transport></Destination>`
	cfg, err := ParseConfig("c.xml", []byte(fmt.Sprintf(base, good)))
	noErr(t, err)
	d := cfg.Replication.Destinations[0]
	require(t, d.Name == "B" && d.Group == "g" && d.Sync() && d.InetAddr == "host:10006" && d.User == "u" && d.Password == "p" &&
		len(d.Topics) == 1 && cfg.Replication.Secret == "x" && cfg.Transports[0].Type == TransportReplication &&
		cfg.Replication.HeartbeatInterval == 2*time.Second && d.HeartbeatInterval == 250*time.Millisecond, "parsed %+v", cfg.Replication)
	require(t, (&ReplicationConfig{}).heartbeat() == DefaultReplicationHeartbeat, "default heartbeat")
	bad := []struct{ name, xml, want string }{
		{"no name", `<Destination><SyncType>sync</SyncType></Destination>`, "needs a Name"},
		{"bad sync", `<Destination><Name>B</Name><SyncType>maybe</SyncType></Destination>`, "SyncType"},
		{"no topic", `<Destination><Name>B</Name><Transport><InetAddr>1</InetAddr></Transport></Destination>`, "Topic"},
		{"no transport", `<Destination><Name>B</Name><Topic><Name>x</Name></Topic></Destination>`, "Transport"},
		{"bad type", `<Destination><Name>B</Name><Topic><Name>x</Name></Topic><Transport><Type>tcp</Type><InetAddr>1</InetAddr></Transport></Destination>`, "amps-replication"},
		{"heartbeat unit", `<HeartbeatInterval>5</HeartbeatInterval>`, "unit"},
		{"heartbeat zero", `<HeartbeatInterval>0s</HeartbeatInterval>`, "HeartbeatInterval"},
		{"destination heartbeat", `<Destination><Name>B</Name><HeartbeatInterval>soon</HeartbeatInterval></Destination>`, "soon"},
		{"no addr", `<Destination><Name>B</Name><Topic><Name>x</Name></Topic><Transport></Transport></Destination>`, "InetAddr"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig("c.xml", []byte(fmt.Sprintf(base, tc.xml)))
			require(t, err != nil && strings.Contains(err.Error(), tc.want), "err %v, want %q", err, tc.want)
		})
	}
	noJournal := `<AMPSConfig><Name>A</Name><Replication></Replication></AMPSConfig>`
	cfg, err = ParseConfig("c.xml", []byte(noJournal))
	noErr(t, err)
	_, err = New(cfg, WithLogger(quietLogger()))
	require(t, err != nil && strings.Contains(err.Error(), "TransactionLog"), "New without a journal: %v", err)
}
