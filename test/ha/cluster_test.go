package ha

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ampsflume/internal/childproc"
	"ampsflume/internal/poll"
)

func freePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// start runs the built command name with args in dir, its standard output
// and error in one log. It is killed when the test ends if it still runs,
// and the end of its log is shown if the test failed.
func start(t testing.TB, dir, name string, args ...string) *childproc.Proc {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, name), args...)
	cmd.Dir = dir
	out := &childproc.Output{}
	cmd.Stdout = out
	// Registered before Start's own cleanup so that it runs after the kill,
	// when the log is complete.
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s %s (tail):\n%s", name, strings.Join(args, " "), out.Tail())
		}
	})
	return childproc.Start(t, cmd, out)
}

// instance is one ampserver of the pair.
type instance struct {
	name, dir, client, repl, admin string
	p                              *childproc.Proc
}

func (in *instance) server() string { return in.client }
func (in *instance) uri() string    { return "tcp://" + in.client + "/amps/json" }

const instanceConfig = `<AMPSConfig>
  <Name>%[1]s</Name>
  <Admin><InetAddr>%[4]s</InetAddr></Admin>
  <Transports>
    <Transport><Name>json-tcp</Name><Type>tcp</Type><InetAddr>%[2]s</InetAddr><MessageType>json</MessageType><Protocol>amps</Protocol></Transport>
    <Transport><Name>replication</Name><Type>amps-replication</Type><InetAddr>%[3]s</InetAddr></Transport>
  </Transports>
  <SOW><Topic><Name>Orders</Name><MessageType>json</MessageType><Key>/id</Key><FileName>./sow/%%n.sow</FileName></Topic></SOW>
  <TransactionLog>
    <JournalDirectory>./journal</JournalDirectory>
    <FlushInterval>10ms</FlushInterval>
    <Topic><Name>Orders</Name><MessageType>json</MessageType></Topic>
  </TransactionLog>
  <Replication>
    <Secret>pair-secret</Secret>
    <Destination>
      <Name>%[5]s</Name><Group>pair</Group><SyncType>sync</SyncType>
      <Topic><Name>Orders</Name><MessageType>json</MessageType></Topic>
      <Transport><Type>amps-replication</Type><InetAddr>%[6]s</InetAddr></Transport>
    </Destination>
  </Replication>
</AMPSConfig>
`

// startPair writes the configurations of two instances replicating sync to
// each other and starts both.
func startPair(t testing.TB) (a, b *instance) {
	t.Helper()
	root := t.TempDir()
	a = &instance{name: "A", dir: filepath.Join(root, "A"), client: freePort(t), repl: freePort(t), admin: freePort(t)}
	b = &instance{name: "B", dir: filepath.Join(root, "B"), client: freePort(t), repl: freePort(t), admin: freePort(t)}
	for _, p := range [][2]*instance{{a, b}, {b, a}} {
		in, peer := p[0], p[1]
		if err := os.MkdirAll(filepath.Join(in.dir, "sow"), 0o755); err != nil {
			t.Fatal(err)
		}
		cfg := fmt.Sprintf(instanceConfig, in.name, in.client, in.repl, in.admin, peer.name, peer.repl)
		if err := os.WriteFile(filepath.Join(in.dir, "config.xml"), []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	a.start(t)
	b.start(t)
	return a, b
}

// start runs the instance and waits until it accepts clients.
func (in *instance) start(t testing.TB) {
	t.Helper()
	in.p = start(t, in.dir, "ampserver", "-log-level", "warn", "config.xml")
	poll.Until(t, 20*time.Second, poll.Named(in.name+" accepting", func() error {
		if err := in.p.Alive(); err != nil {
			t.Fatalf("%s: %v", in.name, err)
		}
		c, err := net.Dial("tcp", in.client)
		if err == nil {
			c.Close()
		}
		return err
	}))
}

// clients lists the client names connected to the instance.
func (in *instance) clients() ([]string, error) {
	resp, err := http.Get("http://" + in.admin + "/amps")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var st struct {
		Clients []struct {
			Name string `json:"client_name"`
		} `json:"clients"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return nil, err
	}
	var names []string
	for _, c := range st.Clients {
		names = append(names, c.Name)
	}
	return names, nil
}

func (in *instance) has(client string) bool {
	names, err := in.clients()
	if err != nil {
		return false
	}
	for _, n := range names {
		if n == client {
			return true
		}
	}
	return false
}

// writeMessages writes n JSON messages with ids 0..n-1.
func writeMessages(t testing.TB, path string, n int) {
	t.Helper()
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `{"id":%d,"symbol":"S%d","qty":%d}`+"\n", i, i%7, i)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

const agentConfig = `agent.sources = amps
agent.channels = fc
agent.sinks = files
agent.sources.amps.type = amps
agent.sources.amps.clientName = FlumeHA
agent.sources.amps.uri1 = %[1]s
agent.sources.amps.uri2 = %[2]s
agent.sources.amps.command = subscribe
agent.sources.amps.topic = Orders
agent.sources.amps.bookmarkLog = %[3]s/bookmarks.log
agent.sources.amps.subscriptionId = Sub-100
agent.sources.amps.maxBatch = 100
agent.sources.amps.channels = fc
agent.channels.fc.type = file
agent.channels.fc.checkpointDir = %[3]s/checkpoint
agent.channels.fc.dataDirs = %[3]s/data
agent.channels.fc.transactionCapacity = 1000
agent.sinks.files.type = file_roll
agent.sinks.files.channel = fc
agent.sinks.files.sink.directory = %[3]s/out
agent.sinks.files.sink.rollInterval = 0
`

// agent is a flume-ng agent whose output is read by the test.
type agent struct {
	dir string
	p   *childproc.Proc
}

func startAgent(t testing.TB, uri1, uri2 string) *agent {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "out"), 0o755); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "flume.properties")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(agentConfig, uri1, uri2, dir)), 0o644); err != nil {
		t.Fatal(err)
	}
	ag := &agent{dir: dir}
	ag.p = start(t, dir, "flume-ng", "agent", "-f", conf, "-n", "agent", "-Dflume.root.logger=WARN,console")
	return ag
}

// output returns the ids written by the sink, in order.
func (ag *agent) output() ([]int, error) {
	ents, err := os.ReadDir(filepath.Join(ag.dir, "out"))
	if err != nil {
		return nil, err
	}
	var ids []int
	for _, e := range ents {
		data, err := os.ReadFile(filepath.Join(ag.dir, "out", e.Name()))
		if err != nil {
			return nil, err
		}
		for _, line := range strings.Split(string(data), "\n") {
			if line == "" {
				continue
			}
			var m struct {
				ID *int `json:"id"`
			}
			if err := json.Unmarshal([]byte(line), &m); err != nil || m.ID == nil {
				continue // a line being written
			}
			ids = append(ids, *m.ID)
		}
	}
	return ids, nil
}

// exactlyOnce checks that ids hold 0..n-1 once each.
func exactlyOnce(ids []int, n int) error {
	seen := make([]int, n)
	for _, id := range ids {
		if id < 0 || id >= n {
			return fmt.Errorf("unexpected id %d", id)
		}
		seen[id]++
	}
	var missing, dup []int
	for id, k := range seen {
		switch {
		case k == 0:
			missing = append(missing, id)
		case k > 1:
			dup = append(dup, id)
		}
	}
	if len(missing) > 0 || len(dup) > 0 || len(ids) != n {
		return fmt.Errorf("%d lines for %d messages: %d missing (first %v), %d duplicated (first %v)", len(ids), n, len(missing), head(missing), len(dup), head(dup))
	}
	return nil
}

func head(v []int) []int {
	if len(v) > 10 {
		return v[:10]
	}
	return v
}
