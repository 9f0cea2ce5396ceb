package avro

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"ampsflume/internal/buildbin"
	"ampsflume/internal/childproc"
	"ampsflume/internal/poll"
)

// binary is flume-ng built for the multi-hop test.
var binary string

func TestMain(m *testing.M) {
	os.Exit(buildbin.Main(m, func(s buildbin.Set) { binary = s.Path("flume-ng") }, false, "cmd/flume-ng"))
}

// startAgent writes conf to a file and runs flume-ng on it; the process is
// killed when the test ends if it is still running.
func startAgent(t *testing.T, name, conf string) *childproc.Proc {
	t.Helper()
	file := filepath.Join(t.TempDir(), name+".properties")
	if err := os.WriteFile(file, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return childproc.StartAgent(t, binary, name, file, nil)
}

// lines counts each line of every file in dir.
func lines(dir string) (map[string]int, int, error) {
	seen := map[string]int{}
	total := 0
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, 0, err
	}
	for _, e := range entries {
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, 0, err
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			seen[sc.Text()]++
			total++
		}
		f.Close()
	}
	return seen, total, nil
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestMultiHopSurvivesDownstreamKill chains two agents: A (seq → memory →
// avro sink) feeds B (avro source → file channel → file_roll). B is killed
// with SIGKILL mid-stream; A's sink fails, rolls back and backs off; B is
// restarted on the same port. Every sequence number must reach B's output;
// duplicates are allowed (at-least-once) and reported.
//
// B uses a file channel: a memory channel loses, by design, whatever it holds
// when its process is killed, so "nothing lost" can only hold for a durable
// channel behind the avro source.
func TestMultiHopSurvivesDownstreamKill(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two agent processes")
	}
	const total = 20000
	port := freePort(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	confB := fmt.Sprintf(`b.sources = in
b.channels = fc
b.sinks = files
b.sources.in.type = avro
b.sources.in.bind = 127.0.0.1
b.sources.in.port = %d
b.sources.in.channels = fc
b.channels.fc.type = file
b.channels.fc.checkpointDir = %s
b.channels.fc.dataDirs = %s
b.channels.fc.transactionCapacity = 1000
b.sinks.files.type = file_roll
b.sinks.files.channel = fc
b.sinks.files.sink.directory = %s
b.sinks.files.sink.rollInterval = 0
b.sinks.files.sink.batchSize = 500
`, port, filepath.Join(dir, "cp"), filepath.Join(dir, "data"), out)
	confA := fmt.Sprintf(`a.sources = gen
a.channels = mem
a.sinks = hop
a.sources.gen.type = seq
a.sources.gen.totalEvents = %d
a.sources.gen.batchSize = 100
a.sources.gen.channels = mem
a.channels.mem.type = memory
a.channels.mem.capacity = %d
a.channels.mem.transactionCapacity = 1000
a.sinks.hop.type = avro
a.sinks.hop.channel = mem
a.sinks.hop.hostname = 127.0.0.1
a.sinks.hop.port = %d
a.sinks.hop.batch-size = 100
a.sinks.hop.connect-timeout = 2000
a.sinks.hop.request-timeout = 5000
`, total, total, port)

	b := startAgent(t, "b", confB)
	a := startAgent(t, "a", confA)
	// waitOutput polls until done holds for B's output: the number of
	// distinct lines and of all lines.
	waitOutput := func(limit time.Duration, done func(distinct, n int) bool) {
		t.Helper()
		poll.Until(t, limit, func() error {
			seen, n, err := lines(out)
			if err != nil {
				return err
			}
			if done(len(seen), n) {
				return nil
			}
			return fmt.Errorf("%d lines, %d distinct\nA stderr:\n%s\nB stderr:\n%s", n, len(seen), a.Log(), b.Log())
		})
	}
	waitOutput(60*time.Second, func(_, n int) bool { return n >= total/4 })
	b.Kill(t)
	_, atKill, _ := lines(out)
	t.Logf("B killed after writing %d lines", atKill)

	b = startAgent(t, "b", confB)
	waitOutput(90*time.Second, func(distinct, _ int) bool { return distinct >= total })
	seen, n, err := lines(out)
	if err != nil {
		t.Fatal(err)
	}
	lost := 0
	for i := range total {
		if seen[strconv.Itoa(i)] == 0 {
			lost++
		}
	}
	if lost != 0 || len(seen) != total {
		t.Fatalf("lost %d sequence numbers; %d distinct lines, want %d", lost, len(seen), total)
	}
	t.Logf("lost = 0, duplicates = %d (at-least-once redelivery across the kill)", n-total)
}
