package ha

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ampsflume/internal/poll"
)

// writeRange writes JSON messages with ids from..to-1.
func writeRange(t testing.TB, path string, from, to int) {
	t.Helper()
	var b strings.Builder
	for i := from; i < to; i++ {
		fmt.Fprintf(&b, `{"id":%d,"symbol":"S%d","qty":%d}`+"\n", i, i%7, i)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// publish runs spark publish of ids from..to-1 as client name to server; a
// publish store makes it return only once every message is persisted.
func publish(t testing.TB, server, name string, from, to int) {
	t.Helper()
	msgs := filepath.Join(t.TempDir(), name+".json")
	writeRange(t, msgs, from, to)
	out, err := exec.Command(filepath.Join(binDir, "spark"), "publish", "-server", server, "-topic", "Orders",
		"-file", msgs, "-clientname", name, "-publishstore", filepath.Join(t.TempDir(), name+".store")).CombinedOutput()
	if err != nil {
		t.Fatalf("spark publish as %s: %v\n%s", name, err, out)
	}
}

// sowCount is the number of records in the instance's Orders SOW.
func (in *instance) sowCount() (int, error) {
	out, err := exec.Command(filepath.Join(binDir, "spark"), "sow", "-server", in.server(), "-topic", "Orders").CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("%v: %s", err, out)
	}
	return strings.Count(string(out), `"id":`), nil
}

// stop sends the agent SIGTERM and fails the test unless it exits cleanly.
// The agent runs at WARN and does not log that it started: it is stopped
// only once its output shows it at work, signal handler installed.
func (ag *agent) stop(t testing.TB) {
	t.Helper()
	ag.p.Stop(t, 20*time.Second)
}

// restart runs the agent again on its configuration, bookmark log, channel
// and output.
func (ag *agent) restart(t testing.TB) {
	t.Helper()
	ag.p = start(t, ag.dir, "flume-ng", "agent", "-f", filepath.Join(ag.dir, "flume.properties"), "-n", "agent",
		"-Dflume.root.logger=WARN,console")
}

// (d) Two publishers, journaled in a different order by the two instances,
// and a source that resumes on the other instance with a bookmark list that
// names only one of them: publisher Y publishes to B while A is down, then
// publisher X to A while B is down, and the agent takes X's messages from A.
// When B returns, A's journal holds X then Y and B's Y then X. The agent
// stops, A is killed, and the agent resumes on B from its bookmark log,
// which names only X: Y's messages, which B journaled before X's, must still
// reach the output, once.
func TestFailoverUnlistedPublisher(t *testing.T) {
	t.Parallel()
	const k = 200
	a, b := startPair(t)
	a.p.Kill(t)
	publish(t, b.server(), "pubY", k, 2*k)
	b.p.Kill(t)
	a.start(t)
	publish(t, a.server(), "pubX", 0, k)

	ag := startAgent(t, a.uri(), b.uri())
	poll.Until(t, 30*time.Second, poll.Named("X's messages in the output", func() error {
		ids, err := ag.output()
		if err != nil {
			return err
		}
		return exactlyOnce(ids, k)
	}))
	ag.stop(t)

	b.start(t)
	for _, in := range []*instance{a, b} {
		poll.Until(t, 30*time.Second, poll.Named(in.name+" has both publishers' messages", func() error {
			n, err := in.sowCount()
			if err == nil && n != 2*k {
				err = fmt.Errorf("%d records", n)
			}
			return err
		}))
	}
	a.p.Kill(t)

	ag.restart(t)
	poll.Until(t, 30*time.Second, poll.Named("every message in the output exactly once", func() error {
		ids, err := ag.output()
		if err != nil {
			return err
		}
		return exactlyOnce(ids, 2*k)
	}))
	ag.stop(t)
	ids, _ := ag.output()
	if err := exactlyOnce(ids, 2*k); err != nil {
		t.Fatal(err)
	}
}
