package main

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"syscall"
	"testing"
	"time"

	"ampsflume/amps/wire"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ampserver-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "ampserver")
	if runtime.GOOS == "windows" {
		binary += ".exe"
	}
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		os.Stderr.Write(out)
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const testConfig = `<AMPSConfig>
  <Name>cmd-test</Name>
  <Transports>
    <Transport><Name>json-tcp</Name><Type>tcp</Type><InetAddr>127.0.0.1:0</InetAddr><Protocol>amps</Protocol><MessageType>json</MessageType></Transport>
  </Transports>
  <SOW><Topic><Name>Orders</Name><MessageType>json</MessageType><Key>/order_key</Key><FileName>./sow/%n-json.sow</FileName></Topic></SOW>
</AMPSConfig>`

func TestRunPublishAndSignal(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "amps.xml"), []byte(testConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "amps.xml")
	cmd.Dir = dir
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addrRe := regexp.MustCompile(`transport listening.*addr=(\S+)`)
	addrs := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := addrRe.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case addrs <- m[1]:
				default:
				}
			}
		}
	}()
	var addr string
	select {
	case addr = <-addrs:
	case <-time.After(30 * time.Second):
		t.Fatal("server did not report its address")
	}
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var out []byte
	out = wire.AppendFrame(out, &wire.Header{Command: "logon", CommandID: "1", ClientName: "c", AckType: "processed"}, nil)
	out = wire.AppendFrame(out, &wire.Header{Command: "p", Topic: "Orders"}, []byte(`{"order_key":1}`))
	out = wire.AppendFrame(out, &wire.Header{Command: "flush", CommandID: "2", AckType: "processed"}, nil)
	if _, err := conn.Write(out); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	r := wire.NewReader(bufio.NewReader(conn), 0)
	for {
		f, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		var h wire.Header
		if _, err := wire.ParseMessage(f, &h); err != nil {
			t.Fatal(err)
		}
		if h.CommandID == "2" {
			break
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	st, err := os.Stat(filepath.Join(dir, "sow", "Orders-json.sow"))
	if err != nil || st.Size() == 0 {
		t.Fatalf("SOW file relative to the working directory: %v", err)
	}
}

func TestBadConfig(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bad.xml"), []byte("<AMPSConfig>\n<Transports><Transport><Name>t</Name></Transport></Transports></AMPSConfig>"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(binary, filepath.Join(dir, "bad.xml")).CombinedOutput()
	if err == nil {
		t.Fatal("bad config accepted")
	}
	if !regexp.MustCompile(`bad.xml:2: <Transport>: transport "t" needs an InetAddr`).Match(out) {
		t.Fatalf("error does not name the element and line: %s", out)
	}
	if err := exec.Command(binary).Run(); err == nil {
		t.Fatal("missing argument accepted")
	}
}
