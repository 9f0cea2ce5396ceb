package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"ampsflume/internal/buildbin"
	"ampsflume/internal/childproc"
	"ampsflume/internal/poll"
)

var binary string

func TestMain(m *testing.M) {
	os.Exit(buildbin.Main(m, func(s buildbin.Set) { binary = s.Path("flume-ng") }, false, "cmd/flume-ng"))
}

// readLines returns every line of every file in dir, files in name order.
func readLines(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var lines []string
	for _, e := range entries {
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		f.Close()
	}
	return lines, nil
}

// TestAgentEndToEnd runs the binary as Flume users do: seq → memory →
// file_roll, with the article's command-line shape and the HTTP monitor,
// and checks that exactly the generated events arrive, in order, then that
// SIGTERM stops it cleanly.
func TestAgentEndToEnd(t *testing.T) {
	const total = 20000
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "conf")
	os.Mkdir(conf, 0o755)
	text := fmt.Sprintf(`# seq -> memory -> file_roll
agent.sources = gen
agent.channels = mem
agent.sinks = files
agent.sources.gen.type = seq
agent.sources.gen.totalEvents = %d
agent.sources.gen.batchSize = 500
agent.sources.gen.channels = mem
agent.channels.mem.type = memory
agent.channels.mem.capacity = 5000
agent.channels.mem.transactionCapacity = 1000
agent.sinks.files.type = file_roll
agent.sinks.files.channel = mem
agent.sinks.files.sink.directory = ${env:FLUME_E2E_OUT}
agent.sinks.files.sink.rollInterval = 0
agent.sinks.files.sink.batchSize = 1000
`, total)
	file := filepath.Join(conf, "flume-conf.properties")
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "agent", "-Xmx512m", "-c", conf, "-f", file, "-n", "agent",
		"-Dflume.root.logger=INFO,console", "-Dflume.monitoring.type=http", "-Dflume.monitoring.port=0")
	cmd.Env = append(os.Environ(), "FLUME_E2E_OUT="+out)
	p := childproc.Start(t, cmd, nil)

	want := make([]string, total)
	for i := range want {
		want[i] = strconv.Itoa(i)
	}
	poll.Until(t, 30*time.Second, func() error {
		got, err := readLines(out)
		if err != nil {
			return err
		}
		if len(got) != total {
			return fmt.Errorf("%d lines, want %d; stderr:\n%s", len(got), total, p.Log())
		}
		for i := range got {
			if got[i] != want[i] {
				return fmt.Errorf("line %d = %q, want %q", i, got[i], want[i])
			}
		}
		return nil
	})

	addr := regexp.MustCompile(`"monitoring started" type=http addr=(\S+)`).FindStringSubmatch(p.Log())
	if addr == nil {
		t.Fatalf("no monitoring address in:\n%s", p.Log())
	}
	if !strings.HasPrefix(addr[1], "127.0.0.1:") {
		t.Fatalf("monitor bound to %s", addr[1])
	}
	poll.Until(t, 10*time.Second, func() error {
		resp, err := http.Get("http://" + addr[1] + "/metrics")
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var m map[string]map[string]string
		if err := json.Unmarshal(body, &m); err != nil {
			return fmt.Errorf("%v: %s", err, body)
		}
		n := strconv.Itoa(total)
		if m["SINK.files"]["EventDrainSuccessCount"] != n || m["CHANNEL.mem"]["ChannelSize"] != "0" || m["SOURCE.gen"]["Type"] != "SOURCE" {
			return fmt.Errorf("metrics %v", m)
		}
		return nil
	})
	http.DefaultClient.CloseIdleConnections()
	if !strings.Contains(p.Log(), "JVM option ignored") {
		t.Errorf("-Xmx512m not reported as ignored:\n%s", p.Log())
	}

	p.Stop(t, 20*time.Second)
	if got, _ := readLines(out); len(got) != total {
		t.Fatalf("after stop: %d lines", len(got))
	}
	if !strings.Contains(p.Log(), "agent stopped") {
		t.Fatalf("no clean stop:\n%s", p.Log())
	}
}

// TestBrokenConfigRefused: a configuration with errors starts nothing and
// exits non-zero with every problem printed.
func TestBrokenConfigRefused(t *testing.T) {
	file := filepath.Join(t.TempDir(), "bad.properties")
	os.WriteFile(file, []byte("agent.sources = s\nagent.channels = c\nagent.sources.s.type = seq\nagent.sources.s.channels = c\nagent.channels.c.type = memory\nagent.channels.c.capacity = ten\nagent.sources.s.batchSize = 500\n"), 0o644)
	cmd := exec.Command(binary, "agent", "-n", "agent", "-f", file)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if err == nil {
		t.Fatal("broken config accepted")
	}
	for _, want := range []string{file + `:6: channel "c": key "capacity"`, file + `:7: source "s": key "batchSize"`} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("missing %q in:\n%s", want, stderr.String())
		}
	}
}

// TestReloadOnChange: a changed file is reloaded; a broken change is refused
// and the running configuration kept.
func TestReloadOnChange(t *testing.T) {
	dir := t.TempDir()
	out1, out2 := filepath.Join(dir, "o1"), filepath.Join(dir, "o2")
	os.Mkdir(out1, 0o755)
	os.Mkdir(out2, 0o755)
	conf := func(out string, extra string) string {
		return "a.sources = s\na.channels = c\na.sinks = k\na.sources.s.type = seq\na.sources.s.totalEvents = 100\na.sources.s.channels = c\n" +
			"a.channels.c.type = memory\na.sinks.k.type = file_roll\na.sinks.k.channel = c\na.sinks.k.sink.rollInterval = 0\na.sinks.k.sink.directory = " + out + "\n" + extra
	}
	file := filepath.Join(dir, "f.properties")
	os.WriteFile(file, []byte(conf(out1, "")), 0o644)
	cmd := exec.Command(binary, "agent", "-n", "a", "-f", file, "-i", "1")
	p := childproc.Start(t, cmd, nil)
	lines := func(dir string, n int) func() error {
		return func() error {
			got, err := readLines(dir)
			if err != nil || len(got) != n {
				return fmt.Errorf("%s: %d lines (%v), want %d\n%s", dir, len(got), err, n, p.Log())
			}
			return nil
		}
	}
	poll.Until(t, 20*time.Second, lines(out1, 100))
	bump := func(text string) {
		os.WriteFile(file, []byte(text), 0o644)
		future := time.Now().Add(time.Duration(len(text)) * time.Second)
		os.Chtimes(file, future, future)
	}
	bump(conf(out2, "a.channels.c.capacity = lots\n"))
	poll.Until(t, 20*time.Second, func() error {
		if !strings.Contains(p.Log(), "new configuration refused") || !strings.Contains(p.Log(), `key "capacity"`) {
			return fmt.Errorf("no refusal:\n%s", p.Log())
		}
		return nil
	})
	bump(conf(out2, "a.channels.c.capacity = 500\n"))
	poll.Until(t, 20*time.Second, lines(out2, 100))
	p.Stop(t, 20*time.Second)
}

// TestLogFormat: every line the agent writes to stderr, the engine's and the
// components' alike (netcat's "listening" line, the logger sink's events),
// is in the one format -Dflume.root.logger configures, and stopping does not
// wait out the memory channel's keep-alive.
func TestLogFormat(t *testing.T) {
	file := filepath.Join(t.TempDir(), "netcat.properties")
	text := `a.sources = nc
a.channels = c
a.sinks = log
a.sources.nc.type = netcat
a.sources.nc.bind = 127.0.0.1
a.sources.nc.port = 0
a.sources.nc.channels = c
a.channels.c.type = memory
a.channels.c.keep-alive = 30
a.sinks.log.type = logger
a.sinks.log.channel = c
`
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "agent", "-n", "a", "-f", file, "--no-reload-conf", "-Dflume.root.logger=DEBUG,console")
	p := childproc.Start(t, cmd, nil)
	listening := regexp.MustCompile(`"netcat source listening" .*addr=(\S+)`)
	var addr string
	poll.Until(t, 20*time.Second, func() error {
		m := listening.FindStringSubmatch(p.Log())
		if m == nil {
			return fmt.Errorf("no listening line in:\n%s", p.Log())
		}
		addr = m[1]
		return nil
	})
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "hello\n")
	ack, err := bufio.NewReader(conn).ReadString('\n')
	conn.Close()
	if err != nil || ack != "OK\n" {
		t.Fatalf("netcat answered %q, %v", ack, err)
	}
	poll.Until(t, 20*time.Second, func() error {
		if !strings.Contains(p.Log(), `msg="Event: { headers:{} body: 68 65 6C 6C 6F`) {
			return fmt.Errorf("no logged event in:\n%s", p.Log())
		}
		return nil
	})
	// Within less than the channel's keep-alive (30 s): stopping must not
	// wait it out.
	p.Stop(t, 20*time.Second)
	line := regexp.MustCompile(`^time=\S+ level=(DEBUG|INFO|WARN|ERROR) msg=`)
	for _, l := range strings.Split(strings.TrimRight(p.Log(), "\n"), "\n") {
		if !line.MatchString(l) {
			t.Errorf("line not in the agent's log format: %q", l)
		}
	}
	for _, want := range []string{"source=nc", "sink=log", "agent stopped"} {
		if !strings.Contains(p.Log(), want) {
			t.Errorf("no %q in:\n%s", want, p.Log())
		}
	}
}

// TestValidateReportsEveryProblem: `flume-ng validate` lists every problem
// of the file in one run (several bad keys of one component, bad keys of
// several components), each once, with file:line, component and key; a
// problem two checks see (the engine's and a component's) is printed once.
func TestValidateReportsEveryProblem(t *testing.T) {
	for _, tc := range []struct {
		name string
		text string
		want []string // every ERROR line, after "<file>:"
	}{
		{"several keys of several components", `a.sources = r1 r2
a.channels = c1
a.sinks = k1
a.sources.r1.type = amps
a.sources.r1.channels = c1
a.sources.r1.topic = Orders
a.sources.r1.uri = localhost:9007
a.sources.r1.maxBuffers = 0
a.sources.r1.eventHeaders = nope
a.sources.r2.type = seq
a.sources.r2.channels = c1
a.sources.r2.batchSize = lots
a.sources.r2.totalEvents = -1
a.channels.c1.type = memory
a.channels.c1.capacity = lots
a.channels.c1.keep-alive = soon
a.sinks.k1.type = file_roll
a.sinks.k1.channel = c1
a.sinks.k1.sink.rollInterval = x
a.sinks.k1.sink.pathManager = weird
a.sinks.k1.sink.batchSize = 500
a.sources.r1.backoffSleepIncrement = later
`, []string{
			`4: source "r1": key "clientName": is required`,
			`4: source "r1": key "maxBatch": defaults to 1000, more than the transactionCapacity 100 of channel "c1"`,
			`7: source "r1": key "uri": "localhost:9007" is not a URI`,
			`8: source "r1": key "maxBuffers": 0 is out of range`,
			`9: source "r1": key "eventHeaders": invalid event header`,
			`12: source "r2": key "batchSize": "lots" is not an integer`,
			`13: source "r2": key "totalEvents": -1 is out of range`,
			`15: channel "c1": key "capacity": "lots" is not an integer`,
			`16: channel "c1": key "keep-alive": "soon" is not a non-negative integer`,
			`17: sink "k1": key "sink.directory": is required`,
			`19: sink "k1": key "sink.rollInterval": "x" is not a non-negative integer`,
			`20: sink "k1": key "sink.pathManager": unknown path manager "weird"`,
			`21: sink "k1": key "sink.batchSize": is 500, more than the transactionCapacity 100 of channel "c1"`,
			`22: source "r1": key "backoffSleepIncrement": "later" is not a non-negative integer`,
		}},
		{"default maxBatch above a channel's transactionCapacity, once", `a.sources = r1
a.channels = c1
a.sources.r1.type = com.crankuptheamps.flume.AMPSFlumeSource
a.sources.r1.channels = c1
a.sources.r1.clientName = c
a.sources.r1.uri = tcp://localhost:9007/amps/json
a.sources.r1.topic = Orders
a.channels.c1.type = memory
a.channels.c1.transactionCapacity = 50
`, []string{
			`3: source "r1": key "maxBatch": defaults to 1000, more than the transactionCapacity 50 of channel "c1"; every transaction would fail`,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "bad.properties")
			if err := os.WriteFile(file, []byte(tc.text), 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(binary, "validate", "-n", "a", "-f", file)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err == nil {
				t.Fatal("broken config validated")
			}
			var errs []string
			for _, l := range strings.Split(stderr.String(), "\n") {
				if rest, ok := strings.CutPrefix(l, "ERROR "+file+":"); ok {
					errs = append(errs, rest)
				} else if strings.HasPrefix(l, "ERROR ") {
					t.Errorf("error without the file's location: %s", l)
				}
			}
			if len(errs) != len(tc.want) {
				t.Errorf("%d errors, want %d:\n%s", len(errs), len(tc.want), stderr.String())
			}
			for _, w := range tc.want {
				n := 0
				for _, e := range errs {
					if strings.HasPrefix(e, w) {
						n++
					}
				}
				if n != 1 {
					t.Errorf("%q printed %d times, want once:\n%s", w, n, stderr.String())
				}
			}
			if want := fmt.Sprintf("%d error(s)", len(tc.want)); !strings.Contains(stdout.String(), want) {
				t.Errorf("summary lacks %q: %s", want, stdout.String())
			}
		})
	}
}
