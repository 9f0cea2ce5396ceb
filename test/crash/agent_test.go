package crash

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"ampsflume/internal/poll"
)

// lockedBuffer collects a child's stderr while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// agent is one flume-ng child process.
type agent struct {
	cmd    *exec.Cmd
	stderr lockedBuffer
	exited chan struct{}
	err    error // valid once exited is closed
}

// startAgent runs `flume-ng agent -n name -f conf --no-reload-conf`. The
// process is killed when the test ends if it is still running.
func startAgent(t *testing.T, conf, name string) *agent {
	t.Helper()
	a := &agent{exited: make(chan struct{})}
	a.cmd = exec.Command(binary, "agent", "-n", name, "-f", conf, "--no-reload-conf",
		"-Dflume.root.logger=INFO,console")
	a.cmd.Stderr = &a.stderr
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		a.err = a.cmd.Wait()
		close(a.exited)
	}()
	t.Cleanup(func() { a.kill(t) })
	return a
}

func (a *agent) running() bool {
	select {
	case <-a.exited:
		return false
	default:
		return true
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (a *agent) kill(t *testing.T) {
	t.Helper()
	if a.running() {
		_ = a.cmd.Process.Signal(syscall.SIGKILL)
	}
	select {
	case <-a.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("agent %d did not die after SIGKILL", a.cmd.Process.Pid)
	}
}

// stop sends SIGTERM and waits for a clean exit.
func (a *agent) stop(t *testing.T) {
	t.Helper()
	if !a.running() {
		t.Fatalf("agent exited before it was stopped: %v\n%s", a.err, a.stderr.String())
	}
	// A SIGTERM that arrives before the agent has installed its signal
	// handler kills it outright; a graceful stop needs a started agent.
	poll.Until(t, 30*time.Second, func() error {
		if err := a.alive(); err != nil {
			return err
		}
		if !strings.Contains(a.stderr.String(), `msg="agent started"`) {
			return fmt.Errorf("agent not started yet:\n%s", a.stderr.String())
		}
		return nil
	})
	_ = a.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-a.exited:
		if a.err != nil {
			t.Fatalf("agent exit after SIGTERM: %v\n%s", a.err, a.stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("agent did not stop after SIGTERM:\n%s", a.stderr.String())
	}
}

// alive fails the test when the agent has exited on its own.
func (a *agent) alive() error {
	if !a.running() {
		return fmt.Errorf("agent exited by itself: %v\n%s", a.err, a.stderr.String())
	}
	return nil
}

// logValue returns the value of key in the first log line with message
// msg, or "" when there is none yet.
func (a *agent) logValue(msg, key string) string {
	// Components may log through the text handler (msg="...") or the
	// standard logger's format (INFO message key=value).
	re := regexp.MustCompile(regexp.QuoteMeta(msg) + `"?[^\n]* ` + regexp.QuoteMeta(key) + `=(\S+)`)
	if m := re.FindStringSubmatch(a.stderr.String()); m != nil {
		return m[1]
	}
	return ""
}

// writeConf writes a properties file into dir and returns its path.
func writeConf(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// fileChannelConf is the file channel c under dir, with frequent
// checkpoints and small log files, so that kills land in checkpoints and
// rolls too.
func fileChannelConf(agentName, dir string, capacity, txCapacity int) string {
	return fmt.Sprintf(`%[1]s.channels.c.type = file
%[1]s.channels.c.checkpointDir = %[2]s
%[1]s.channels.c.dataDirs = %[3]s
%[1]s.channels.c.capacity = %[4]d
%[1]s.channels.c.transactionCapacity = %[5]d
%[1]s.channels.c.checkpointInterval = 200
%[1]s.channels.c.maxFileSize = 262144
%[1]s.channels.c.minimumRequiredSpace = 1048576
`, agentName, filepath.Join(dir, "checkpoint"), filepath.Join(dir, "data"), capacity, txCapacity)
}

// jdbcChannelConf is the jdbc channel c on an SQLite file under dir.
func jdbcChannelConf(agentName, dir string, capacity, txCapacity int) string {
	return fmt.Sprintf(`%[1]s.channels.c.type = jdbc
%[1]s.channels.c.path = %[2]s
%[1]s.channels.c.maximum.capacity = %[3]d
%[1]s.channels.c.transactionCapacity = %[4]d
`, agentName, filepath.Join(dir, "channel.sqlite"), capacity, txCapacity)
}

// durableChannels are the channel kinds the kill tests run against.
var durableChannels = []struct {
	name string
	conf func(agentName, dir string, capacity, txCapacity int) string
}{
	{"file", fileChannelConf},
	{"jdbc-sqlite", jdbcChannelConf},
}

// fileRollConf is a file_roll sink k on channel c that fsyncs each batch
// before committing it.
func fileRollConf(agentName, out string, batch int) string {
	return fmt.Sprintf(`%[1]s.sinks.k.type = file_roll
%[1]s.sinks.k.channel = c
%[1]s.sinks.k.sink.directory = %[2]s
%[1]s.sinks.k.sink.rollInterval = 0
%[1]s.sinks.k.sink.batchSize = %[3]d
%[1]s.sinks.k.sink.fsync = true
`, agentName, out, batch)
}

// outputBytes is the total size of the files in dir: a cheap progress
// measure.
func outputBytes(dir string) int64 {
	var n int64
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if info, err := e.Info(); err == nil {
			n += info.Size()
		}
	}
	return n
}

// output is what the sink wrote: how many times each number occurs.
type output struct {
	counts map[int]int
	lines  int
	// torn counts final lines without their newline: a kill in the middle
	// of a write whose batch was never committed, so it is sent again.
	torn int
}

// readOutput parses every file in dir as one decimal number per line.
func readOutput(dir string) (output, error) {
	o := output{counts: map[int]int{}}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if len(b) > 0 && b[len(b)-1] != '\n' {
			o.torn++
			b = b[:bytes.LastIndexByte(b, '\n')+1]
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			n, err := strconv.Atoi(sc.Text())
			if err != nil {
				return fmt.Errorf("%s: line %d: %q is not a sequence number", filepath.Base(path), o.lines+1, sc.Text())
			}
			o.counts[n]++
			o.lines++
		}
		return sc.Err()
	})
	return o, err
}

// newRand returns a generator seeded from CRASH_SEED when set, otherwise
// from the clock; the seed is logged so that a failure can be replayed.
func newRand(t *testing.T) *rand.Rand {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("CRASH_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("CRASH_SEED: %v", err)
		}
		seed = v
	}
	t.Logf("seed %d (set CRASH_SEED to replay)", seed)
	return rand.New(rand.NewPCG(seed, seed>>1|1))
}

// kills is the number of crashes per test: at least 50, fewer with -short.
func kills() int {
	if testing.Short() {
		return 10
	}
	return 50
}

// mkdirs creates the directories and returns the first.
func mkdirs(t *testing.T, dirs ...string) {
	t.Helper()
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

func joinConf(parts ...string) string { return strings.Join(parts, "") }
