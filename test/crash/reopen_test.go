package crash

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"ampsflume/internal/childproc"
	"ampsflume/internal/poll"
)

// TestKillDuringPutsReopens runs an unbounded seq source into a file channel
// (small log files, checkpoints every 200 ms) drained by file_roll, and
// SIGKILLs the agent at random moments while the source is putting. Each
// restart on the same directories must reopen the channel by itself — no
// lock to remove, no checkpoint to delete — and get events flowing again;
// and whatever reached the output is well-formed sequence numbers.
func TestKillDuringPutsReopens(t *testing.T) {
	r := childproc.Rand(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	mkdirs(t, out)
	conf := writeConf(t, dir, "seq.properties", joinConf(`seq.sources = gen
seq.channels = c
seq.sinks = k
seq.sources.gen.type = seq
seq.sources.gen.channels = c
seq.sources.gen.batchSize = 100
`, fileChannelConf("seq", dir, 50000, 1000), fileRollConf("seq", out, 500)))

	crashes := 0
	for ; crashes < kills(); crashes++ {
		a := startAgent(t, conf, "seq")
		// The channel reopened and events flow: the sink wrote something
		// new in this run.
		before := outputBytes(out)
		poll.Until(t, 30*time.Second, func() error {
			if err := a.Alive(); err != nil {
				return err
			}
			if outputBytes(out) <= before {
				return fmt.Errorf("no events after restart %d:\n%s", crashes, a.Log())
			}
			return nil
		})
		// Then kill at a random point of the source's puts.
		time.Sleep(time.Duration(r.IntN(80)) * time.Millisecond)
		if err := a.Alive(); err != nil {
			t.Fatal(err)
		}
		a.Kill(t)
	}
	final := startAgent(t, conf, "seq")
	before := outputBytes(out)
	poll.Until(t, 30*time.Second, func() error {
		if err := final.Alive(); err != nil {
			return err
		}
		if outputBytes(out) <= before {
			return fmt.Errorf("no events after the last restart:\n%s", final.Log())
		}
		return nil
	})
	final.Stop(t, stopTimeout)
	o, err := readOutput(out)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d crashes: %d lines written, %d torn final lines", crashes, o.lines, o.torn)
}
