package walkthrough

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"ampsflume/internal/poll"
)

// proc is a command started by a test; Cleanup kills it if the test did not
// stop it.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *syncBuffer // stdout
	errs *syncBuffer // stderr
	done chan struct{}
	err  error // Wait's result, once done is closed
}

func startProc(t *testing.T, dir, name string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, out: &syncBuffer{}, errs: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(filepath.Join(binDir, name), args...)
	p.cmd.Dir = dir
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.errs
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("%s %s\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), p.out.Bytes(), p.errs.Bytes())
		}
	})
	return p
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM and checks the process exits with status 0.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	if p.exited() {
		t.Errorf("%s exited before it was stopped: %v", p.name, p.err)
		return
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Errorf("SIGTERM to %s: %v", p.name, err)
		return
	}
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		t.Errorf("%s did not exit within 20s of SIGTERM", p.name)
		return
	}
	if p.err != nil {
		t.Errorf("%s after SIGTERM: %v (want exit status 0)", p.name, p.err)
	}
}

// freePort returns a port nothing listens on at the moment.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// portFree reports whether port can be listened on, on every interface as
// the example's bare-port transports do.
func portFree(port int) bool {
	ln, err := net.Listen("tcp", ":"+strconv.Itoa(port))
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

// walkthroughDir lays out the article's working directory: amps-config.xml
// and messages.json, and conf/flume-conf.properties with its sink directory
// set to out. The example listens on 9007 (amps), 9008 (websocket) and
// 8085 (admin); a port in use is replaced in both configurations by a free
// one, and the test says so. It returns the amps and admin ports.
func walkthroughDir(t *testing.T, dir, out string) (ampsPort, adminPort int) {
	t.Helper()
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(exampleDir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	server, agent := read("amps-config.xml"), read("flume-conf.properties")
	ports := map[string]int{"9007": 9007, "9008": 9008, "8085": 8085}
	for name, p := range ports {
		if portFree(p) {
			continue
		}
		ports[name] = freePort(t)
		t.Logf("port %s is in use here: the configurations are rewritten to use %d instead", name, ports[name])
	}
	replace := func(s, old, new string) string {
		if !strings.Contains(s, old) {
			t.Fatalf("the example configuration no longer contains %q", old)
		}
		return strings.ReplaceAll(s, old, new)
	}
	server = replace(server, "<InetAddr>9007</InetAddr>", fmt.Sprintf("<InetAddr>%d</InetAddr>", ports["9007"]))
	server = replace(server, "<InetAddr>9008</InetAddr>", fmt.Sprintf("<InetAddr>%d</InetAddr>", ports["9008"]))
	server = replace(server, "<InetAddr>localhost:8085</InetAddr>", fmt.Sprintf("<InetAddr>localhost:%d</InetAddr>", ports["8085"]))
	agent = replace(agent, "127.0.0.1:9007", fmt.Sprintf("127.0.0.1:%d", ports["9007"]))
	agent = replace(agent, "sink.directory = /tmp/amps-flume/", "sink.directory = "+out)

	write := func(name, data string) {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("amps-config.xml", server)
	write("messages.json", read("messages.json"))
	write(filepath.Join("conf", "flume-conf.properties"), agent)
	return ports["9007"], ports["8085"]
}

type adminClient struct {
	Name          string `json:"client_name"`
	Subscriptions int    `json:"subscriptions"`
}

// subscribed asks the admin interface whether clients with each of the
// given name prefixes hold a live subscription.
func subscribed(adminPort int, prefixes ...string) error {
	resp, err := http.Get(fmt.Sprintf("http://localhost:%d/amps/clients", adminPort))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var clients []adminClient
	if err := json.NewDecoder(resp.Body).Decode(&clients); err != nil {
		return err
	}
	for _, prefix := range prefixes {
		found := false
		for _, c := range clients {
			if strings.HasPrefix(c.Name, prefix) && c.Subscriptions > 0 {
				found = true
			}
		}
		if !found {
			return fmt.Errorf("no client %s* with a subscription among %+v", prefix, clients)
		}
	}
	return nil
}

// readDir concatenates the files of dir in name order.
func readDir(dir string) ([]byte, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []byte
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, b...)
	}
	return out, nil
}

// TestWalkthroughProcesses runs the article's walkthrough with the built
// commands, verbatim except for the sink directory (and ports, when the
// example's are taken):
//
//	ampserver amps-config.xml
//	flume-ng agent -Xmx512m -c conf/ -f conf/flume-conf.properties -n agent -Dflume.root.logger=INFO,console
//	spark publish -server localhost:9007 -topic Orders -rate 1 -file messages.json
//
// and checks the rolled file equals expected-output.jsonl byte for byte. A
// spark sow_and_subscribe with the agent's filter and options watches the
// same run; its printed payloads must equal the expected output too.
func TestWalkthroughProcesses(t *testing.T) {
	t.Parallel()
	expected, err := os.ReadFile(filepath.Join(exampleDir, "expected-output.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	work, out := t.TempDir(), t.TempDir()
	port, adminPort := walkthroughDir(t, work, out)
	server := fmt.Sprintf("localhost:%d", port)

	amps := startProc(t, work, "ampserver", "amps-config.xml")
	poll.Until(t, 15*time.Second, poll.Named("ampserver accepting connections", func() error {
		if amps.exited() {
			t.Fatalf("ampserver exited: %v", amps.err)
		}
		c, err := net.DialTimeout("tcp", server, time.Second)
		if err == nil {
			c.Close()
		}
		return err
	}))
	flume := startProc(t, work, "flume-ng", "agent", "-Xmx512m", "-c", "conf/", "-f", "conf/flume-conf.properties", "-n", "agent", "-Dflume.root.logger=INFO,console")
	watcher := startProc(t, work, "spark", "sow_and_subscribe", "-server", server, "-topic", "Orders",
		"-filter", "/symbol IN ('IBM', 'MSFT')",
		"-opts", "projection=[/symbol,avg(/price) as /avg_price,avg(/price*/qty) as /avg_total],grouping=[/symbol],conflation=1s")
	poll.Until(t, 30*time.Second, poll.Named("the agent's and spark's subscriptions", func() error {
		for _, p := range []*proc{amps, flume, watcher} {
			if p.exited() {
				t.Fatalf("%s exited: %v", p.name, p.err)
			}
		}
		return subscribed(adminPort, "FlumeClient", "spark-")
	}))

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pub := exec.CommandContext(ctx, filepath.Join(binDir, "spark"), "publish", "-server", server, "-topic", "Orders", "-rate", "1", "-file", "messages.json")
	pub.Dir = work
	pubOut, err := pub.CombinedOutput()
	if err != nil {
		t.Fatalf("spark publish: %v\n%s", err, pubOut)
	}
	if !strings.HasPrefix(string(pubOut), "total messages published: 15 ") {
		t.Errorf("spark publish printed %q, want the total of 15 messages", pubOut)
	}

	want := countLines(expected)
	poll.Until(t, 40*time.Second, poll.Named("the expected lines in the sink directory and from spark", func() error {
		got, err := readDir(out)
		if err != nil {
			return err
		}
		if n, m := countLines(got), countLines(watcher.out.Bytes()); n < want || m < want {
			return fmt.Errorf("%d lines in %s and %d from spark, want %d", n, out, m, want)
		}
		return nil
	}))

	flume.stop(t)
	watcher.stop(t)
	amps.stop(t)
	got, err := readDir(out)
	if err != nil {
		t.Fatal(err)
	}
	if files, _ := os.ReadDir(out); len(files) != 1 {
		t.Errorf("the sink wrote %d files, want 1 (rollInterval = 0)", len(files))
	}
	if string(got) != string(expected) {
		t.Errorf("flume output differs from expected-output.jsonl:\n%s", diffLines(got, expected))
	}
	if printed := watcher.out.Bytes(); string(printed) != string(expected) {
		t.Errorf("spark sow_and_subscribe output differs from expected-output.jsonl:\n%s", diffLines(printed, expected))
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Error("spark publish ran out of time")
	}
}
