package crash

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	ampsclient "ampsflume/amps"
	"ampsflume/internal/childproc"
	"ampsflume/internal/poll"
)

// The queue tests run a real ampserver process with a journaled topic Work
// and a queue WorkQ over it, and a flume-ng agent whose AMPS source consumes
// the queue into a file channel drained by file_roll. One of the two
// processes is SIGKILLed again and again. Every message must reach the
// output; the duplicates are what at-least-once delivery allows: messages
// leased to the source and not yet acknowledged on the server's disk at a
// kill, and (when the agent dies) the sink batch written but not committed.

const (
	queueMaxBatch = 50
	// queueBacklog is the source's default max_backlog (its maxBatch): the
	// most messages leased to it and not yet acknowledged at any moment.
	queueBacklog   = queueMaxBatch
	queueSinkBatch = 50
	// queueLease is the queue's LeasePeriod. A kill ends leases by
	// disconnecting (agent) or by forgetting them (server), so redelivery
	// never waits for it; it is short so that a lease bug shows as a slow
	// test, yet well above the time a batch takes to reach the channel, so
	// that no lease ends under a live agent and the duplicate bound holds.
	queueLease = "3s"
)

// queueServerConfig is the ampserver configuration; the %s are the client
// transport's address and the journal's FlushInterval.
const queueServerConfig = `<AMPSConfig>
  <Name>crash-queue</Name>
  <Transports>
    <Transport><Name>json-tcp</Name><Type>tcp</Type><InetAddr>%s</InetAddr><MessageType>json</MessageType><Protocol>amps</Protocol></Transport>
  </Transports>
  <TransactionLog>
    <JournalDirectory>./journal</JournalDirectory>
    <FlushInterval>%s</FlushInterval>
    <Topic><Name>Work</Name><MessageType>json</MessageType></Topic>
  </TransactionLog>
  <SOW>
    <Queue><Name>WorkQ</Name><MessageType>json</MessageType><UnderlyingTopic>Work</UnderlyingTopic><LeasePeriod>` + queueLease + `</LeasePeriod></Queue>
  </SOW>
</AMPSConfig>
`

// queueServer is an ampserver child process that can be killed and started
// again on the same port and journal directory.
type queueServer struct {
	dir, addr string
	out       *childproc.Output // shared by every run, for failure messages
	p         *childproc.Proc
}

func newQueueServer(t *testing.T, dir string) *queueServer {
	return newQueueServerFlush(t, dir, "5ms")
}

// newQueueServerFlush is newQueueServer with the journal's FlushInterval.
func newQueueServerFlush(t *testing.T, dir, flush string) *queueServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := &queueServer{dir: dir, addr: addr, out: &childproc.Output{}}
	mkdirs(t, dir)
	writeConf(t, dir, "config.xml", fmt.Sprintf(queueServerConfig, addr, flush))
	// Registered before the processes' own cleanups, so it runs after their
	// kills, with the whole log.
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("ampserver log (tail):\n%s", s.out.Tail())
		}
	})
	return s
}

func (s *queueServer) uri() string { return "tcp://" + s.addr + "/amps/json" }

// start runs the server and waits until it accepts connections: it has
// replayed its journal and rebuilt the queue by then.
func (s *queueServer) start(t *testing.T) {
	t.Helper()
	cmd := exec.Command(ampserverBinary, "-log-level", "warn", "config.xml")
	cmd.Dir = s.dir
	cmd.Stdout = s.out
	s.p = childproc.Start(t, cmd, s.out)
	poll.Until(t, 30*time.Second, poll.Named("ampserver accepting", func() error {
		if err := s.p.Alive(); err != nil {
			t.Fatal(err)
		}
		c, err := net.Dial("tcp", s.addr)
		if err == nil {
			c.Close()
		}
		return err
	}))
}

// publishPersisted publishes the numbers [from, to) to Work as JSON numbers,
// each with its publisher sequence number (the number + 1) and a persisted
// ack requested, and returns once the server has acknowledged the last one
// as persisted: from then on a server kill cannot lose them. The client is
// closed on return; each call logs on again with the same name, as a
// publisher that reconnects after a server restart does.
func publishPersisted(t *testing.T, uri string, from, to int) {
	t.Helper()
	if from >= to {
		return
	}
	c := ampsclient.NewClient("crash-queue-publisher")
	defer c.Close()
	var persisted atomic.Uint64
	c.OnPersisted(func(seq uint64) {
		if seq > persisted.Load() {
			persisted.Store(seq)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.Connect(ctx, uri); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Logon(ctx); err != nil {
		t.Fatal(err)
	}
	for n := from; n < to; n++ {
		err := c.Send(ampsclient.Command{Name: ampsclient.CmdPublish, Topic: "Work",
			Data: strconv.AppendInt(nil, int64(n), 10), AckType: ampsclient.AckPersisted,
			Seq: uint64(n) + 1, HasSeq: true})
		if err != nil {
			t.Fatal(err)
		}
	}
	poll.Until(t, 20*time.Second, func() error {
		if got := persisted.Load(); got < uint64(to) {
			return fmt.Errorf("publisher: persisted up to sequence %d, want %d", got, to)
		}
		return nil
	})
}

// queueAgentConf is agent q: the AMPS source on the queue, a file channel
// and file_roll into out.
func queueAgentConf(uri, dir, out string) string {
	return joinConf(fmt.Sprintf(`q.sources = r
q.channels = c
q.sinks = k
q.sources.r.type = amps
q.sources.r.channels = c
q.sources.r.clientName = crash-queue-agent
q.sources.r.uri = %s
q.sources.r.command = subscribe
q.sources.r.topic = WorkQ
q.sources.r.maxBatch = %d
q.sources.r.maxBuffers = 4
q.sources.r.backoffSleepIncrement = 20
q.sources.r.maxBackoffSleep = 50
`, uri, queueMaxBatch), fileChannelConf("q", dir, 100000, queueMaxBatch), fileRollConf("q", out, queueSinkBatch))
}

// numbersBytes is the size of the output holding each of 0..n-1 once.
func numbersBytes(n int) int64 {
	var b int64
	for i := range n {
		b += int64(len(strconv.Itoa(i)) + 1)
	}
	return b
}

// waitOutputGrowth polls until the output has grown by grow bytes, or holds
// every one of the first published numbers (nothing more can come), while
// alive says the processes are still running. It reports whether numbers
// were still missing from the output: the kill that follows lands in the
// middle of the work rather than in an idle agent.
func waitOutputGrowth(t *testing.T, out string, grow int64, published int, alive func() error) (busy bool) {
	t.Helper()
	before := outputBytes(out)
	complete := numbersBytes(published)
	poll.Until(t, 30*time.Second, func() error {
		if err := alive(); err != nil {
			return err
		}
		n := outputBytes(out)
		if n >= before+grow {
			busy = true
			return nil
		}
		if n >= complete {
			if o, err := readOutput(out); err == nil && len(o.counts) >= published {
				return nil
			}
		}
		return fmt.Errorf("no progress: %d bytes of output, waiting for %d", n, before+grow)
	})
	return busy
}

// waitAllNumbers polls until the output holds every one of 0..total-1.
func waitAllNumbers(t *testing.T, out string, total int, alive func() error) {
	t.Helper()
	poll.Until(t, 60*time.Second, func() error {
		if err := alive(); err != nil {
			return err
		}
		o, err := readOutput(out)
		if err != nil {
			return err
		}
		if len(o.counts) < total {
			return fmt.Errorf("%d of %d numbers in the output", len(o.counts), total)
		}
		return nil
	})
}

// checkQueueOutput verifies that 0..total-1 all appear and nothing else
// does, and that the duplicates stay within maxDups.
func checkQueueOutput(t *testing.T, out string, total, kills, maxDups int) {
	t.Helper()
	o, err := readOutput(out)
	if err != nil {
		t.Fatal(err)
	}
	lost, dups, dupNumbers := 0, 0, 0
	for i := range total {
		switch n := o.counts[i]; {
		case n == 0:
			if lost < 10 {
				t.Errorf("number %d never reached the output", i)
			}
			lost++
		case n > 1:
			dups += n - 1
			dupNumbers++
		}
	}
	for n := range o.counts {
		if n < 0 || n >= total {
			t.Errorf("output holds %d, which was never published", n)
		}
	}
	t.Logf("%d kills: %d published, %d lines, %d lost, %d duplicates (of %d numbers; at most %d allowed), %d torn final lines",
		kills, total, o.lines, lost, dups, dupNumbers, maxDups, o.torn)
	if lost > 0 {
		t.Fatalf("%d messages lost", lost)
	}
	if dups > maxDups {
		t.Fatalf("%d duplicates after %d kills: more than the %d that at-least-once delivery allows", dups, kills, maxDups)
	}
}

// queueTotal is how many numbers each queue test publishes.
const queueTotal = 10000

// chunkEnd is the end of the numbers published before the k-th of kills
// runs: half of them before the first, so that the queue holds a backlog,
// the rest over the runs, so that it also grows while being consumed.
func chunkEnd(total, k, kills int) int { return total/2 + total/2*k/kills }

// growth is a random amount of output to wait for before a kill, about the
// whole output divided by the kills on average, so that the kills spread
// over the consumption.
func growth(r *rand.Rand, total, kills int) int64 {
	return 1 + r.Int64N(2*numbersBytes(total)/int64(kills))
}

// queueKills is a random number of kills in [lo, hi], lo with -short.
func queueKills(r *rand.Rand, lo, hi int) int {
	if testing.Short() {
		return lo
	}
	return lo + r.IntN(hi-lo+1)
}

// TestQueueKillAgent SIGKILLs the consuming agent at random moments (during
// start-up and subscription, and once its output has grown by a random
// amount: in the middle of batches, channel commits, acknowledgements and
// sink writes) while the publisher keeps adding to the queue, and restarts
// it each time. A kill ends the agent's connection, so the server puts its
// leased, unacknowledged messages (at most max_backlog) back at once; the
// file channel may also hand the sink's uncommitted batch out again.
func TestQueueKillAgent(t *testing.T) {
	const total = queueTotal
	r := childproc.Rand(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	mkdirs(t, out)
	srv := newQueueServer(t, filepath.Join(dir, "server"))
	srv.start(t)
	conf := writeConf(t, dir, "q.properties", queueAgentConf(srv.uri(), dir, out))

	kills := queueKills(r, 10, 20)
	published, busy := 0, 0
	for k := range kills {
		next := chunkEnd(total, k, kills)
		publishPersisted(t, srv.uri(), published, next)
		published = next

		a := startAgent(t, conf, "q")
		alive := func() error {
			if err := srv.p.Alive(); err != nil {
				return err
			}
			return a.Alive()
		}
		if r.IntN(4) == 0 {
			// Some kills land during start-up: channel replay, connection,
			// logon and subscribe.
			time.Sleep(time.Duration(r.IntN(200)) * time.Millisecond)
		} else {
			if waitOutputGrowth(t, out, growth(r, total, kills), published, alive) {
				busy++
			}
		}
		if err := alive(); err != nil {
			t.Fatal(err)
		}
		a.Kill(t)
	}
	publishPersisted(t, srv.uri(), published, total)

	final := startAgent(t, conf, "q")
	waitAllNumbers(t, out, total, func() error {
		if err := srv.p.Alive(); err != nil {
			return err
		}
		return final.Alive()
	})
	final.Stop(t, stopTimeout)
	srv.p.Stop(t, stopTimeout)
	t.Logf("%d of %d kills in the middle of consumption", busy, kills)
	checkQueueOutput(t, out, total, kills, kills*(queueBacklog+queueSinkBatch))
}

// TestQueueKillServer SIGKILLs the ampserver at random moments while one
// agent consumes its queue (as soon as it accepts connections: during the
// queue's rebuild and the agent's reconnection; and once the output has
// grown: in the middle of leases and acknowledgements), and restarts it on
// the same port and journal directory. Each chunk of numbers is published
// with a persisted ack and the next kill comes only once every one of them
// is acknowledged as persisted, so every published number is one the server
// promised to keep. The agent runs throughout: its source reconnects and
// subscribes again. A kill forgets the leases; every message the source had
// not yet got acknowledged on the server's disk (at most max_backlog) comes
// again.
func TestQueueKillServer(t *testing.T) {
	const total = queueTotal
	r := childproc.Rand(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	mkdirs(t, out)
	srv := newQueueServer(t, filepath.Join(dir, "server"))
	srv.start(t)
	conf := writeConf(t, dir, "q.properties", queueAgentConf(srv.uri(), dir, out))
	a := startAgent(t, conf, "q")
	alive := func() error {
		if err := srv.p.Alive(); err != nil {
			return err
		}
		return a.Alive()
	}

	kills := queueKills(r, 6, 10)
	published, busy := 0, 0
	for k := range kills {
		next := chunkEnd(total, k, kills)
		publishPersisted(t, srv.uri(), published, next)
		published = next
		if r.IntN(4) == 0 {
			time.Sleep(time.Duration(r.IntN(200)) * time.Millisecond)
		} else {
			if waitOutputGrowth(t, out, growth(r, total, kills), published, alive) {
				busy++
			}
		}
		if err := alive(); err != nil {
			t.Fatal(err)
		}
		srv.p.Kill(t)
		srv.start(t)
	}
	publishPersisted(t, srv.uri(), published, total)

	waitAllNumbers(t, out, total, alive)
	a.Stop(t, stopTimeout)
	srv.p.Stop(t, stopTimeout)
	t.Logf("%d of %d kills in the middle of consumption", busy, kills)
	checkQueueOutput(t, out, total, kills, kills*queueBacklog)
}

// connectClient connects and logs on a client named name.
func connectClient(t *testing.T, uri, name string) *ampsclient.Client {
	t.Helper()
	c := ampsclient.NewClient(name)
	t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Connect(ctx, uri); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Logon(ctx); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestQueueStaleAckAfterServerKill: a server kill loses the journal's
// tail not yet synced, and the restarted journal gives the lost records'
// sequence numbers, and so (without replication) their bookmarks, to the
// publisher's next messages. The server hands out a queue message only
// once its record is durable, so no consumer can hold the bookmark of a
// lost message: an acknowledgement it sends after reconnecting (a source
// that commits its buffered batch after the reconnection does this) can
// never remove the new message that took that bookmark.
func TestQueueStaleAckAfterServerKill(t *testing.T) {
	dir := t.TempDir()
	// A long flush interval keeps the first message in the journal's
	// buffer until the kill.
	srv := newQueueServerFlush(t, filepath.Join(dir, "server"), "30s")
	srv.start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	consumer := connectClient(t, srv.uri(), "stale-consumer")
	sub, err := consumer.Subscribe(ctx, "WorkQ", "")
	if err != nil {
		t.Fatal(err)
	}
	pub := connectClient(t, srv.uri(), "crash-queue-publisher")
	if err := pub.Publish("Work", []byte("1")); err != nil {
		t.Fatal(err)
	}
	if err := pub.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// Message 1 is processed: had it been delivered then, the delivery
	// would be on the consumer's connection ahead of this flush's ack.
	if err := consumer.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	srv.p.Kill(t)
	// The kill ends the subscription; whatever it delivered before is what
	// the consumer holds and acknowledges later.
	var stale []string
	for {
		m, err := sub.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				t.Fatalf("the subscription did not end after the server was killed: %v", err)
			}
			break
		}
		stale = append(stale, m.Bookmark)
	}
	if len(stale) > 0 {
		t.Errorf("message 1 was delivered (bookmarks %q) while its journal record was not durable", stale)
	}
	srv.start(t)

	// The publisher logs on again and publishes a new message, which takes
	// the lost message's journal sequence number.
	pub2 := connectClient(t, srv.uri(), "crash-queue-publisher")
	if err := pub2.Publish("Work", []byte("2")); err != nil {
		t.Fatal(err)
	}
	if err := pub2.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	consumer2 := connectClient(t, srv.uri(), "stale-consumer")
	n := 0
	if len(stale) > 0 {
		if n, err = consumer2.Ack(ctx, "WorkQ", stale...); err != nil {
			t.Fatal(err)
		}
	}
	consumer2.Close()
	// A graceful restart syncs the journal (message 2 is in it) and
	// rebuilds the queue from it less the acknowledgements.
	srv.p.Stop(t, stopTimeout)
	srv.start(t)
	q, err := connectClient(t, srv.uri(), "stale-reader").Sow(ctx, "WorkQ", "")
	if err != nil {
		t.Fatal(err)
	}
	var held []string
	for m := range q.All() {
		if m.Command == ampsclient.CmdSow {
			held = append(held, string(m.Data)+" "+m.Bookmark)
		}
	}
	if len(held) != 1 || !strings.HasPrefix(held[0], "2 ") {
		t.Fatalf("the acknowledgement of bookmarks %q, held by the consumer at the kill, removed %d message(s); the queue holds %q, want message 2", stale, n, held)
	}
}
