package ampserver

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"ampsflume/amps"
	"ampsflume/ampserver/repl"
	"ampsflume/ampserver/txlog"
)

// freezeProxy forwards TCP connections to a target and can freeze: it then
// stops forwarding in both directions without closing anything (a
// partition, or a peer stopped with SIGSTOP), holds new connections
// without connecting them, and holds the closing of connections whose end
// went away, until it thaws.
type freezeProxy struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup

	mu     sync.Mutex
	frozen bool
	thawed chan struct{} // closed when not frozen
	conns  map[net.Conn]struct{}
	closed bool
}

func newFreezeProxy(t *testing.T, target string) *freezeProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	noErr(t, err)
	p := &freezeProxy{ln: ln, target: target, thawed: make(chan struct{}), conns: map[net.Conn]struct{}{}}
	close(p.thawed)
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *freezeProxy) addr() string { return p.ln.Addr().String() }

func (p *freezeProxy) freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.frozen {
		p.frozen, p.thawed = true, make(chan struct{})
	}
}

func (p *freezeProxy) thaw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.frozen {
		p.frozen = false
		close(p.thawed)
	}
}

// gate waits while the proxy is frozen; false when it is closing.
func (p *freezeProxy) gate() bool {
	p.mu.Lock()
	ch, closed := p.thawed, p.closed
	p.mu.Unlock()
	<-ch
	p.mu.Lock()
	defer p.mu.Unlock()
	return !closed && !p.closed
}

func (p *freezeProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *freezeProxy) close() {
	p.ln.Close()
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.thaw()
	p.wg.Wait()
}

func (p *freezeProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if !p.track(c) {
			continue
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			if !p.gate() {
				c.Close()
				return
			}
			u, err := net.Dial("tcp", p.target)
			if err != nil || !p.track(u) {
				c.Close()
				if u != nil {
					u.Close()
				}
				return
			}
			p.wg.Add(2)
			go p.pipe(u, c)
			go p.pipe(c, u)
		}()
	}
}

// pipe copies src to dst, each chunk only while thawed; when src ends it
// closes both, also only while thawed.
func (p *freezeProxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !p.gate() {
				break
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			p.gate()
			break
		}
	}
	src.Close()
	dst.Close()
}

// beatsOf returns the heartbeat watches of s's outgoing link and of its one
// incoming link (nil when absent).
func beatsOf(s *Server) (out, in *linkBeat) {
	out = s.repl.links[0].beat.Load()
	s.repl.mu.Lock()
	defer s.repl.mu.Unlock()
	for l := range s.repl.inbound {
		if b := l.beat.Load(); b != nil && in == nil {
			in = b
		}
	}
	return out, in
}

// step advances the shared clock by one interval and waits until every
// watched end has heard a heartbeat sent at or after that step.
func step(t *testing.T, clk *fakeClock, d time.Duration, beats []*linkBeat) {
	t.Helper()
	if msg := stepWithin(clk, d, beats, 10*time.Second); msg != "" {
		t.Fatalf("no heartbeat after a step:\n%s", msg)
	}
}

// stepWithin is step, waiting at most wait; it returns what is missing.
func stepWithin(clk *fakeClock, d time.Duration, beats []*linkBeat, wait time.Duration) string {
	before := make([]uint64, len(beats))
	for i, b := range beats {
		before[i] = b.beats.Load()
	}
	clk.Advance(d)
	deadline := time.Now().Add(wait)
	for {
		missing := 0
		for i, b := range beats {
			if b.beats.Load() <= before[i] {
				missing++
			}
		}
		if missing == 0 {
			return ""
		}
		if time.Now().After(deadline) {
			var st []string
			for i, b := range beats {
				b.mu.Lock()
				st = append(st, fmt.Sprintf("end %d: beats %d (before %d), stopped %v, wrote %v, heard %v, last heard %v",
					i, b.beats.Load(), before[i], b.stopped, b.wrote.Load(), b.heard.Load(), clk.Now().Sub(b.lastHeard)))
				b.mu.Unlock()
			}
			return strings.Join(st, "\n")
		}
		time.Sleep(time.Millisecond)
	}
}

func connected(s *Server) bool {
	_, ok := s.repl.links[0].effective()
	return ok
}

// TestReplicationHeartbeatPartition: a pair whose links both pass through
// proxies that freeze. An idle healthy link is kept; a frozen one is
// declared dead after the configured silence on the server clock, the sync
// acks held for it are released, and when the partition heals both links
// reconnect and catch up with every message exactly once on both sides.
func TestReplicationHeartbeatPartition(t *testing.T) {
	const hb = 500 * time.Millisecond
	clk := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	dirA, dirB := t.TempDir(), t.TempDir()
	replA, replB := freePort(t), freePort(t)
	toB, toA := newFreezeProxy(t, replB), newFreezeProxy(t, replA)
	cfgA := replicaConfig(dirA, "A", replA, "sync", map[string]string{"B": toB.addr()})
	cfgB := replicaConfig(dirB, "B", replB, "sync", map[string]string{"A": toA.addr()})
	cfgA.Replication.HeartbeatInterval, cfgB.Replication.HeartbeatInterval = hb, hb
	a := startServer(t, cfgA, WithClock(clk))
	b := startServer(t, cfgB, WithClock(clk))
	linkUp(t, a)
	linkUp(t, b)

	pubA, pubB := ampsClient(t, a, "pubA"), ampsClient(t, b, "pubB")
	ackedA, ackedB := make(chan uint64, 100), make(chan uint64, 100)
	pubA.OnPersisted(func(seq uint64) { ackedA <- seq })
	pubB.OnPersisted(func(seq uint64) { ackedB <- seq })
	publish := func(c *amps.Client, from, to int, base int) {
		for i := from; i <= to; i++ {
			sendSeq(t, c, uint64(i), base+i)
		}
	}
	publish(pubA, 1, 3, 0)
	publish(pubB, 1, 3, 100)
	waitSeq(t, ackedA, 3)
	waitSeq(t, ackedB, 3)

	var beats []*linkBeat
	waitFor(t, "heartbeat watches on all four ends", func() bool {
		beats = beats[:0]
		for _, s := range []*Server{a, b} {
			out, in := beatsOf(s)
			if out == nil || in == nil {
				return false
			}
			beats = append(beats, out, in)
		}
		return true
	})
	// Idle and healthy: many intervals pass, far beyond the misses, and
	// the same connections stay up. The first steps only clear what the
	// publishes wrote (an end that wrote in an interval does not beat in
	// it, and the last acks may still be on their way): they end at the
	// first step in which every end beats.
	primed := false
	for i := 0; i < ReplicationHeartbeatMisses-1 && !primed; i++ {
		primed = stepWithin(clk, hb, beats, 2*time.Second) == ""
	}
	require(t, primed, "no step in which every end beat")
	for range 4 * ReplicationHeartbeatMisses {
		step(t, clk, hb, beats)
	}
	for _, s := range []*Server{a, b} {
		out, in := beatsOf(s)
		require(t, connected(s) && (out == beats[0] || out == beats[2]), "%s: idle link was replaced", s.cfg.Name)
		require(t, in == beats[1] || in == beats[3], "%s: idle incoming link was replaced", s.cfg.Name)
	}

	toB.freeze()
	toA.freeze()
	publish(pubA, 4, 8, 0)
	publish(pubB, 4, 8, 100)
	for _, s := range []*Server{a, b} {
		waitFor(t, "records journaled and sent into the partition", func() bool {
			ol := s.repl.links[0]
			ol.mu.Lock()
			defer ol.mu.Unlock()
			return s.jr.log.Durable() >= 8 && ol.scanned >= 8
		})
		s.acksChanged()
	}
	// Silence is measured from the first tick after the last frame heard,
	// so the link is declared dead between misses and misses+1 intervals
	// after the freeze, and not before.
	for i := 1; i < ReplicationHeartbeatMisses; i++ {
		clk.Advance(hb)
		for _, s := range []*Server{a, b} {
			require(t, connected(s), "%s: link declared dead after %d silent intervals", s.cfg.Name, i)
		}
		select {
		case seq := <-ackedA:
			t.Fatalf("A acked %d while its sync destination was silent but not yet declared dead", seq)
		case seq := <-ackedB:
			t.Fatalf("B acked %d while its sync destination was silent but not yet declared dead", seq)
		default:
		}
	}
	clk.Advance(hb)
	clk.Advance(hb)
	for _, s := range []*Server{a, b} {
		require(t, !connected(s), "%s: link still counted as connected after %d silent intervals", s.cfg.Name, ReplicationHeartbeatMisses+1)
	}
	waitSeq(t, ackedA, 8)
	waitSeq(t, ackedB, 8)

	toB.thaw()
	toA.thaw()
	linkUp(t, a)
	linkUp(t, b)
	publish(pubA, 9, 10, 0)
	publish(pubB, 9, 10, 100)
	waitSeq(t, ackedA, 10)
	waitSeq(t, ackedB, 10)
	for _, s := range []*Server{a, b} {
		waitFor(t, s.cfg.Name+" caught up", func() bool { return s.jr.log.NextSeq()-1 == 20 })
		got, _ := collectN(t, bookmarkSub(t, ampsClient(t, s, "sub"), "Orders", "0", "", ""), 20)
		seen := map[string]bool{}
		for _, m := range got {
			require(t, !seen[string(m.Data)], "%s: %s twice", s.cfg.Name, m.Data)
			seen[string(m.Data)] = true
		}
		for i := 1; i <= 10; i++ {
			for _, n := range []int{i, 100 + i} {
				k := fmt.Sprintf(`{"order_key":%d,"n":%d}`, n, n)
				require(t, seen[k], "%s: %s missing", s.cfg.Name, k)
			}
		}
	}
}

// TestReplicationHeartbeatOldPeer: an instance of the previous link
// protocol refuses version 2; the link falls back to version 1 and sends
// it no heartbeats (an old peer would end the link on the unknown frame),
// and this instance accepts a version-1 sender without expecting any.
func TestReplicationHeartbeatOldPeer(t *testing.T) {
	clk := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	noErr(t, err)
	t.Cleanup(func() { ln.Close() })
	bad := make(chan error, 10)
	recs := make(chan uint64, 10)
	hellos := make(chan uint64, 100)
	conns := make(chan net.Conn, 10)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			rd := repl.NewReader(nc)
			_, body, err := rd.Next()
			if err != nil {
				nc.Close()
				continue
			}
			h, _ := repl.DecodeHello(body)
			hellos <- h.Version
			if h.Version != 1 {
				nc.Write(repl.AppendRefused(nil, fmt.Sprintf("unsupported version %d", h.Version)))
				nc.Close()
				continue
			}
			nc.Write(repl.AppendWelcome(nil, &repl.Welcome{Instance: "OLD"}))
			conns <- nc
			for {
				typ, body, err := rd.Next()
				if err != nil {
					break
				}
				var r repl.Record
				if typ != repl.TRecord {
					bad <- fmt.Errorf("an old peer got frame %q", typ)
					break
				}
				if err := repl.DecodeRecord(body, &r); err != nil {
					bad <- err
					break
				}
				recs <- r.Seq
				nc.Write(repl.AppendAck(nil, r.Seq))
			}
			nc.Close()
		}
	}()
	expectHellos := func(want ...uint64) {
		t.Helper()
		for _, w := range want {
			select {
			case v := <-hellos:
				require(t, v == w, "hello version %d, want %d", v, w)
			case <-ctxT(t).Done():
				t.Fatalf("no hello version %d", w)
			}
		}
	}
	in := freePort(t)
	// Registered before the server, so run after its shutdown closed the
	// link the peer reads.
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	s := startServer(t, replicaConfig(t.TempDir(), "A", in, "sync", map[string]string{"OLD": ln.Addr().String()}), WithClock(clk))
	linkUp(t, s)
	require(t, s.repl.links[0].beat.Load() == nil, "a version-1 link has a heartbeat watch")
	for range 2 * ReplicationHeartbeatMisses {
		clk.Advance(DefaultReplicationHeartbeat)
	}
	pub := ampsClient(t, s, "pub")
	acked := make(chan uint64, 10)
	pub.OnPersisted(func(seq uint64) { acked <- seq })
	sendSeq(t, pub, 1, 1)
	waitSeq(t, acked, 1)
	select {
	case <-recs:
	case err := <-bad:
		t.Fatalf("old peer: %v", err)
	}
	require(t, connected(s), "the link to the old peer went down")
	expectHellos(2, 1)
	// The peer restarts (it may come back upgraded): version 2 is offered
	// again first.
	(<-conns).Close()
	expectHellos(2, 1)
	linkUp(t, s)
	select {
	case err := <-bad:
		t.Fatalf("old peer: %v", err)
	default:
	}

	// A version-1 sender: welcomed without a heartbeat, and not cut off
	// however long it is silent.
	nc, err := net.Dial("tcp", in)
	noErr(t, err)
	t.Cleanup(func() { nc.Close() })
	_, err = nc.Write(repl.AppendHello(nil, &repl.Hello{Version: 1, Instance: "OLD", Password: "s3cret"}))
	noErr(t, err)
	rd := repl.NewReader(nc)
	typ, _, err := rd.Next()
	noErr(t, err)
	require(t, typ == repl.TWelcome, "got %q", typ)
	for range 2 * ReplicationHeartbeatMisses {
		clk.Advance(DefaultReplicationHeartbeat)
	}
	_, err = nc.Write(repl.AppendRecord(nil, &repl.Record{Seq: 1, Command: byte(txlog.Publish), Topic: "Orders", Client: "old", ClientSeq: 1, Data: []byte(`{"order_key":9,"n":9}`)}))
	noErr(t, err)
	typ, body, err := rd.Next()
	noErr(t, err)
	require(t, typ == repl.TAck, "a version-1 sender got frame %q", typ)
	seq, err := repl.DecodeAck(body)
	require(t, err == nil && seq == 1, "ack %d %v", seq, err)
}
