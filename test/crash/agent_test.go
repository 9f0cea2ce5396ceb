package crash

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"ampsflume/internal/childproc"
)

// startAgent runs `flume-ng agent -n name -f conf`; the process is killed
// when the test ends if it is still running.
func startAgent(t *testing.T, conf, name string, args ...string) *childproc.Proc {
	t.Helper()
	return childproc.StartAgent(t, binary, name, conf, nil, args...)
}

// stopTimeout bounds a graceful stop: the agent drains its sink's batch and
// closes its channel.
const stopTimeout = 30 * time.Second

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
