package crash

import (
	"bufio"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"ampsflume/internal/childproc"
	"ampsflume/internal/poll"
)

// TestKillWhileAcking runs netcat (one OK per event, sent only after the
// event is committed to the file channel) → file channel → file_roll, with
// the test as the client keeping a window of lines in flight. The agent is
// SIGKILLed at random moments, so kills land in the middle of puts, commits,
// takes and writes. Lines without an OK are sent again to the next agent, as
// a client of Flume would. Every acknowledged number must reach the output.
func TestKillWhileAcking(t *testing.T) {
	for _, ch := range durableChannels {
		t.Run(ch.name, func(t *testing.T) { killWhileAcking(t, ch.conf) })
	}
}

func killWhileAcking(t *testing.T, channelConf func(agentName, dir string, capacity, txCapacity int) string) {
	const sinkBatch, window = 100, 16
	r := childproc.Rand(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	mkdirs(t, out)
	conf := writeConf(t, dir, "nc.properties", joinConf(`nc.sources = src
nc.channels = c
nc.sinks = k
nc.sources.src.type = netcat
nc.sources.src.channels = c
nc.sources.src.bind = 127.0.0.1
nc.sources.src.port = 0
nc.sources.src.ack-every-event = true
`, channelConf("nc", dir, 100000, 1000), fileRollConf("nc", out, sinkBatch)))

	c := &ackClient{acked: map[int]bool{}}
	crashes := 0
	for ; crashes < kills(); crashes++ {
		a := startAgent(t, conf, "nc")
		// Kill after a random number of acknowledgements in this run.
		c.run(t, a, 1+r.IntN(150), r)
		a.Kill(t)
	}

	// A last agent acknowledges everything still unanswered and drains.
	final := startAgent(t, conf, "nc")
	c.run(t, final, -1, r)
	total := c.next
	var o output
	poll.Until(t, 60*time.Second, func() error {
		if err := final.Alive(); err != nil {
			return err
		}
		var err error
		if o, err = readOutput(out); err != nil {
			return err
		}
		for i := range total {
			if o.counts[i] == 0 {
				return fmt.Errorf("acknowledged %d not in the output (yet); %d of %d there", i, len(o.counts), total)
			}
		}
		return nil
	})
	final.Stop(t, stopTimeout)
	o, err := readOutput(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.acked) != total {
		t.Fatalf("%d of %d numbers acknowledged", len(c.acked), total)
	}
	// A crash may repeat one sink batch, and the lines in flight that were
	// committed but whose OK was lost.
	checkOutput(t, o, total, crashes, sinkBatch+window)
}

// ackClient sends increasing numbers, retrying those that got no OK.
type ackClient struct {
	next  int          // next fresh number
	retry []int        // sent to a dead agent without an answer
	acked map[int]bool // answered OK
}

// run connects to the agent and keeps window lines in flight. With
// killAfter > 0 it kills the agent after that many OKs, while the following
// lines are still in flight, and returns once the connection is gone. With
// killAfter < 0 it sends only the retries and returns when all are
// acknowledged.
func (c *ackClient) run(t *testing.T, a *childproc.Proc, killAfter int, r *rand.Rand) {
	t.Helper()
	const window = 16
	var addr string
	poll.Until(t, 30*time.Second, func() error {
		if err := a.Alive(); err != nil {
			return err
		}
		if addr = a.LogValue("netcat source listening", "addr"); addr == "" {
			return errors.New("netcat source not listening yet")
		}
		return nil
	})
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	var inFlight []int
	acks := 0
	final := killAfter < 0
	for {
		for len(inFlight) < window {
			var n int
			switch {
			case len(c.retry) > 0:
				n, c.retry = c.retry[0], c.retry[1:]
			case final:
				n = -1
			default:
				n = c.next
				c.next++
			}
			if n < 0 {
				break
			}
			if _, err := conn.Write([]byte(strconv.Itoa(n) + "\n")); err != nil {
				c.retry = append(c.retry, n)
				break
			}
			inFlight = append(inFlight, n)
		}
		if final && len(inFlight) == 0 {
			return
		}
		if err := conn.SetReadDeadline(time.Now().Add(30 * time.Second)); err != nil {
			t.Fatal(err)
		}
		line, err := br.ReadString('\n')
		if err != nil {
			// The agent is gone: everything in flight is unanswered.
			if !final && acks >= killAfter {
				c.retry = append(c.retry, inFlight...)
				return
			}
			t.Fatalf("connection lost before the kill: %v\n%s", err, a.Log())
		}
		n := inFlight[0]
		inFlight = inFlight[1:]
		switch {
		case line == "OK\n":
			c.acked[n] = true
			acks++
		case strings.HasPrefix(line, "FAILED"):
			c.retry = append(c.retry, n)
		default:
			t.Fatalf("unexpected answer %q", line)
		}
		if !final && acks == killAfter {
			// Mid-flight: the agent is busy with the rest of the window.
			if r.IntN(2) == 0 {
				time.Sleep(time.Duration(r.IntN(2000)) * time.Microsecond)
			}
			a.Kill(t)
		}
	}
}
