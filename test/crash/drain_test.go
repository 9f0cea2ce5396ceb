package crash

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"ampsflume/internal/childproc"
	"ampsflume/internal/poll"
)

// TestKillWhileDraining fills a file channel with the numbers 0..N-1 (agent
// "fill": seq → channel, killed once it has committed them all), then drains
// it to file_roll with agent "drain", which is SIGKILLed again and again at
// random moments and restarted on the same directories. Every number must
// reach the output; a crash may repeat at most the one batch the sink had
// written but not committed.
func TestKillWhileDraining(t *testing.T) {
	for _, ch := range durableChannels {
		t.Run(ch.name, func(t *testing.T) { killWhileDraining(t, ch.conf) })
	}
}

func killWhileDraining(t *testing.T, channelConf func(agentName, dir string, capacity, txCapacity int) string) {
	const total, sinkBatch = 30000, 100
	r := childproc.Rand(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	mkdirs(t, out)

	fill := writeConf(t, dir, "fill.properties", joinConf(`fill.sources = gen
fill.channels = c
fill.sources.gen.type = seq
fill.sources.gen.channels = c
fill.sources.gen.batchSize = 500
fill.sources.gen.totalEvents = `+strconv.Itoa(total)+"\n",
		channelConf("fill", dir, 100000, 1000)))
	a := startFiller(t, fill)
	waitChannelSize(t, a, total)
	// Killed rather than stopped: the drain agent starts from a channel
	// that was not closed cleanly.
	a.Kill(t)

	drain := writeConf(t, dir, "drain.properties", joinConf(`drain.channels = c
drain.sinks = k
`, channelConf("drain", dir, 100000, 1000), fileRollConf("drain", out, sinkBatch)))

	// The output holds at least this many bytes once every number is there.
	var complete int64
	for i := range total {
		complete += int64(len(strconv.Itoa(i)) + 1)
	}
	crashes, drainedAt := 0, 0
	for crashes < kills() {
		a := startAgent(t, drain, "drain")
		if r.IntN(4) == 0 {
			// Some kills land during start-up: replay and checkpoint.
			time.Sleep(time.Duration(r.IntN(30)) * time.Millisecond)
		} else {
			before := outputBytes(out)
			grow := int64(1 + r.IntN(1500))
			poll.Until(t, 30*time.Second, func() error {
				if err := a.Alive(); err != nil {
					return err
				}
				n := outputBytes(out)
				if n >= before+grow {
					return nil
				}
				// Near the end fewer than grow bytes may be left to
				// write: a drained channel is all the progress there is.
				if n >= complete {
					if o, err := readOutput(out); err == nil && len(o.counts) == total {
						return nil
					}
				}
				return fmt.Errorf("drain agent made no progress (%d bytes of output)\n%s", n, a.Log())
			})
		}
		if err := a.Alive(); err != nil {
			t.Fatal(err)
		}
		// Every run is killed, also once the channel is empty (the kill
		// then lands in replay or an idle agent), so that each test
		// crashes the agent kills() times.
		a.Kill(t)
		crashes++
		if drainedAt == 0 && outputBytes(out) >= complete {
			if o, err := readOutput(out); err == nil && len(o.counts) == total {
				drainedAt = crashes
				t.Logf("every number was in the output after %d crashes", drainedAt)
			}
		}
	}

	final := startAgent(t, drain, "drain")
	var o output
	poll.Until(t, 60*time.Second, func() error {
		if err := final.Alive(); err != nil {
			return err
		}
		var err error
		if o, err = readOutput(out); err != nil {
			return err
		}
		if len(o.counts) < total {
			return fmt.Errorf("%d of %d numbers in the output after %d crashes", len(o.counts), total, crashes)
		}
		return nil
	})
	final.Stop(t, stopTimeout)
	if o, err := readOutput(out); err != nil {
		t.Fatal(err)
	} else {
		checkOutput(t, o, total, crashes, sinkBatch)
	}
}

// checkOutput verifies that 0..total-1 all appear, nothing else does, and
// duplicates stay within one batch per crash.
func checkOutput(t *testing.T, o output, total, crashes, batch int) {
	t.Helper()
	lost, dups := 0, 0
	for i := range total {
		switch n := o.counts[i]; {
		case n == 0:
			if lost < 10 {
				t.Errorf("number %d never reached the output", i)
			}
			lost++
		case n > 1:
			dups += n - 1
		}
	}
	for n := range o.counts {
		if n < 0 || n >= total {
			t.Errorf("output holds %d, which was never generated", n)
		}
	}
	t.Logf("%d crashes: %d lines, %d lost, %d duplicates, %d torn final lines", crashes, o.lines, lost, dups, o.torn)
	if lost > 0 {
		t.Fatalf("%d events lost", lost)
	}
	if dups > crashes*batch {
		t.Fatalf("%d duplicates after %d crashes: more than one batch of %d per crash", dups, crashes, batch)
	}
}

// startFiller starts an agent with the HTTP monitor on a free port.
func startFiller(t *testing.T, conf string) *childproc.Proc {
	t.Helper()
	return startAgent(t, conf, "fill", "-Dflume.monitoring.type=http", "-Dflume.monitoring.port=0")
}

// waitChannelSize polls the agent's monitor until channel c holds n events.
func waitChannelSize(t *testing.T, a *childproc.Proc, n int) {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	poll.Until(t, 60*time.Second, func() error {
		if err := a.Alive(); err != nil {
			return err
		}
		addr := a.LogValue("monitoring started", "addr")
		if addr == "" {
			return fmt.Errorf("no monitoring address yet:\n%s", a.Log())
		}
		resp, err := client.Get("http://" + addr + "/metrics")
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var m map[string]map[string]string
		if err := json.Unmarshal(body, &m); err != nil {
			return fmt.Errorf("%v: %s", err, body)
		}
		if got := m["CHANNEL.c"]["ChannelSize"]; got != strconv.Itoa(n) {
			return fmt.Errorf("channel size %s, want %d", got, n)
		}
		return nil
	})
}
