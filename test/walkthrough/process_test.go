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
	"testing"
	"time"

	"ampsflume/internal/childproc"
	"ampsflume/internal/poll"
)

// proc is one of the walkthrough's commands, run from the walkthrough's
// working directory. What it prints is kept apart from its log: spark
// prints the payloads that are compared with the expected output.
type proc struct {
	*childproc.Proc
	stdout *childproc.Output
}

// startProc starts the built command name with args in dir; it is killed
// when the test ends if it still runs, and both outputs are logged if the
// test failed.
func startProc(t *testing.T, dir, name string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, name), args...)
	cmd.Dir = dir
	p := &proc{stdout: &childproc.Output{}}
	cmd.Stdout = p.stdout
	// Registered before Start's own cleanup so that it runs after the kill,
	// when both outputs are complete.
	t.Cleanup(func() {
		if t.Failed() && p.Proc != nil {
			t.Logf("%s %s\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), p.stdout.Tail(), p.Output().Tail())
		}
	})
	p.Proc = childproc.Start(t, cmd, nil)
	return p
}

// stopWithin bounds each command's clean exit after SIGTERM.
const stopWithin = 20 * time.Second

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
		if err := amps.Alive(); err != nil {
			t.Fatal(err)
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
			if err := p.Alive(); err != nil {
				t.Fatal(err)
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
		if n, m := countLines(got), countLines([]byte(watcher.stdout.String())); n < want || m < want {
			return fmt.Errorf("%d lines in %s and %d from spark, want %d", n, out, m, want)
		}
		return nil
	}))

	flume.Stop(t, stopWithin)
	watcher.Stop(t, stopWithin)
	amps.Stop(t, stopWithin)
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
	if printed := watcher.stdout.String(); printed != string(expected) {
		t.Errorf("spark sow_and_subscribe output differs from expected-output.jsonl:\n%s", diffLines([]byte(printed), expected))
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Error("spark publish ran out of time")
	}
}
