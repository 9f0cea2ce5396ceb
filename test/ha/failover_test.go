package ha

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"ampsflume/internal/poll"
)

const (
	messages = 1500
	rate     = "500"
	kills    = 3
)

// runFailover publishes through the pair into the agent while killing, kills
// times, the instance the source is connected to, or with withPublisher the
// instance the publisher is connected to (the source starts there too).
func runFailover(t *testing.T, withPublisher bool) {
	a, b := startPair(t)
	ag := startAgent(t, a.uri(), b.uri())
	poll.Until(t, 20*time.Second, poll.Named("source connected to A", func() error {
		if !a.has("FlumeHA") {
			return fmt.Errorf("not yet")
		}
		return nil
	}))
	msgs := filepath.Join(t.TempDir(), "messages.json")
	writeMessages(t, msgs, messages)
	servers := b.server() + "," + a.server()
	if withPublisher {
		servers = a.server() + "," + b.server()
	}
	pub := start(t, t.TempDir(), "spark", "publish", "-server", servers, "-topic", "Orders", "-rate", rate,
		"-file", msgs, "-clientname", "ha-publisher", "-publishstore", filepath.Join(t.TempDir(), "pub.store"))
	for k := 0; k < kills; k++ {
		// Kill once the output has grown by a share of the stream.
		target := (k + 1) * messages / (kills + 2)
		poll.Until(t, 30*time.Second, poll.Named("output before kill", func() error {
			ids, err := ag.output()
			if err != nil || len(ids) < target {
				return fmt.Errorf("%d lines, waiting for %d (%v)", len(ids), target, err)
			}
			return nil
		}))
		// (a) kills the source's instance; (b) the publisher's (where the
		// source is too, at first).
		who := "FlumeHA"
		if withPublisher {
			who = "ha-publisher"
		}
		var victim *instance
		poll.Until(t, 20*time.Second, poll.Named(who+" connected", func() error {
			for _, in := range []*instance{a, b} {
				if in.has(who) {
					victim = in
					return nil
				}
			}
			return fmt.Errorf("%s on no instance", who)
		}))
		before, _ := ag.output()
		victim.p.Kill(t)
		poll.Until(t, 30*time.Second, poll.Named("delivery by the surviving instance", func() error {
			ids, _ := ag.output()
			if len(ids) <= len(before) && pub.Running() {
				return fmt.Errorf("output stuck at %d", len(ids))
			}
			return nil
		}))
		victim.start(t)
	}
	select {
	case <-pub.Exited():
	case <-time.After(60 * time.Second):
		t.Fatal("spark publish did not finish")
	}
	if err := pub.Err(); err != nil || !strings.Contains(pub.Log(), "total messages published: "+strconv.Itoa(messages)) {
		t.Fatalf("spark publish: %v\n%s", err, pub.Output().Tail())
	}
	poll.Until(t, 30*time.Second, poll.Named("every message in the output exactly once", func() error {
		ids, err := ag.output()
		if err != nil {
			return err
		}
		return exactlyOnce(ids, messages)
	}))
	// Nothing more arrives afterwards (a late duplicate would).
	ag.stop(t)
	ids, _ := ag.output()
	if err := exactlyOnce(ids, messages); err != nil {
		t.Fatal(err)
	}
}

// (a) The source's instance is killed while the publisher is elsewhere
// (at first; the source follows it after the first kill).
func TestFailoverSource(t *testing.T) {
	t.Parallel()
	runFailover(t, false)
}

// (b) The source and the publisher are on the instance that is killed.
func TestFailoverSourceAndPublisher(t *testing.T) {
	t.Parallel()
	runFailover(t, true)
}

// (c) An instance down for a while catches up completely when it returns.
func TestPeerCatchUp(t *testing.T) {
	t.Parallel()
	a, b := startPair(t)
	b.p.Kill(t)
	msgs := filepath.Join(t.TempDir(), "messages.json")
	writeMessages(t, msgs, 1000)
	out, err := exec.Command(filepath.Join(binDir, "spark"), "publish", "-server", a.server(), "-topic", "Orders", "-file", msgs).CombinedOutput()
	if err != nil {
		t.Fatalf("spark publish: %v\n%s", err, out)
	}
	b.start(t)
	poll.Until(t, 30*time.Second, poll.Named("B's SOW complete", func() error {
		out, err := exec.Command(filepath.Join(binDir, "spark"), "sow", "-server", b.server(), "-topic", "Orders").CombinedOutput()
		if err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		n := strings.Count(string(out), `"id":`)
		if n != 1000 {
			return fmt.Errorf("%d records", n)
		}
		return nil
	}))
	// And A, which took the publishes, has them once.
	out, err = exec.Command(filepath.Join(binDir, "spark"), "sow", "-server", a.server(), "-topic", "Orders").CombinedOutput()
	if n := strings.Count(string(out), `"id":`); err != nil || n != 1000 {
		t.Fatalf("A's SOW: %d records, %v", n, err)
	}
}
