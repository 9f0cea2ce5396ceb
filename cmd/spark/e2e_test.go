package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"ampsflume/amps"
	"ampsflume/ampserver"
)

// sparkBin is the spark binary built for the end-to-end tests.
var sparkBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "spark-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sparkBin = filepath.Join(dir, "spark")
	out, err := exec.Command("go", "build", "-o", sparkBin, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building spark: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func startServer(t *testing.T, auth map[string]string) string {
	t.Helper()
	cfg := ampserver.DefaultConfig()
	cfg.SOW = []ampserver.SOWTopicConfig{{Name: "Orders", MessageType: "json", Keys: []string{"/order_key"}}}
	if auth != nil {
		cfg.Authentication = &ampserver.AuthConfig{Users: auth}
	}
	s, err := ampserver.New(cfg, ampserver.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	})
	return s.TCPAddr().String()
}

// spark runs the binary to completion and returns its stdout.
func spark(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, sparkBin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("spark %v: %v\nstderr: %s", args, err, errOut.String())
	}
	return out.String()
}

func fileLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimRight(string(b), "\n"), "\n")
}

var publishedRE = regexp.MustCompile(`^total messages published: (\d+) \((\d+\.\d\d|Infinity)/s\)\n$`)
var receivedRE = regexp.MustCompile(`^Total messages received: (\d+) \((\d+\.\d\d|Infinity)/s\)$`)

// TestPublishFileThenSowItBack is the article's flow: publish messages.json,
// then query the SOW and get the same 15 messages back.
func TestPublishFileThenSowItBack(t *testing.T) {
	addr := startServer(t, nil)
	out := spark(t, "", "publish", "-server", addr, "-topic", "Orders", "-file", "testdata/messages.json")
	m := publishedRE.FindStringSubmatch(out)
	if m == nil || m[1] != "15" {
		t.Fatalf("publish output %q", out)
	}
	out = spark(t, "", "sow", "-server", addr, "-topic", "Orders")
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 16 {
		t.Fatalf("sow printed %d lines:\n%s", len(lines), out)
	}
	if rm := receivedRE.FindStringSubmatch(lines[15]); rm == nil || rm[1] != "15" {
		t.Fatalf("trailer %q", lines[15])
	}
	got, want := lines[:15], fileLines(t, "testdata/messages.json")
	sort.Strings(got)
	sort.Strings(want)
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("record %d: %q, want %q", i, got[i], want[i])
		}
	}
}

func TestSowFlags(t *testing.T) {
	addr := startServer(t, nil)
	spark(t, "", "publish", "-server", addr, "-topic", "Orders", "-file", "testdata/messages.json")
	out := spark(t, "", "sow", "-server", addr, "-topic", "Orders", "-filter", "/symbol = 'IBM'",
		"-orderby", "/qty DESC", "-topn", "2", "-batchsize", "1", "-format", "{command}:{data}")
	want := `sow:{"order_key":9, "symbol":"IBM", "price":180.90, "qty":750}` + "\n" +
		`sow:{"order_key":15, "symbol":"IBM", "price":180.95, "qty":480}` + "\n"
	if !strings.HasPrefix(out, want) {
		t.Fatalf("sow output:\n%s\nwant prefix:\n%s", out, want)
	}
}

func TestPublishStdinDelimiterAndRate(t *testing.T) {
	addr := startServer(t, nil)
	in := `{"order_key":1,"symbol":"A"};{"order_key":2,"symbol":"B"};{"order_key":3,"symbol":"C"}`
	out := spark(t, in, "publish", "-server", addr, "-topic", "Orders", "-delimiter", "59", "-rate", "200")
	if m := publishedRE.FindStringSubmatch(out); m == nil || m[1] != "3" {
		t.Fatalf("publish output %q", out)
	}
	out = spark(t, "", "sow", "-server", addr, "-topic", "Orders", "-orderby", "/order_key")
	if !strings.HasPrefix(out, `{"order_key":1,"symbol":"A"}`+"\n"+`{"order_key":2,"symbol":"B"}`+"\n") {
		t.Fatalf("sow output %q", out)
	}
}

func TestSowDeleteByFilterAndByMessages(t *testing.T) {
	addr := startServer(t, nil)
	spark(t, "", "publish", "-server", addr, "-topic", "Orders", "-file", "testdata/messages.json")
	deleted := regexp.MustCompile(`^Deleted (\d+) records in \d+ms\.\n$`)
	out := spark(t, "", "sow_delete", "-server", addr, "-topic", "Orders", "-filter", "/symbol = 'FIZZ'")
	if m := deleted.FindStringSubmatch(out); m == nil || m[1] != "3" {
		t.Fatalf("sow_delete output %q", out)
	}
	msgs := `{"order_key":5, "symbol":"YUM"}` + "\n" + `{"order_key":11, "symbol":"YUM"}` + "\n"
	out = spark(t, msgs, "sow_delete", "-server", addr, "-topic", "Orders")
	if m := deleted.FindStringSubmatch(out); m == nil || m[1] != "2" {
		t.Fatalf("sow_delete by message output %q", out)
	}
	out = spark(t, "", "sow", "-server", addr, "-topic", "Orders")
	if rm := receivedRE.FindStringSubmatch(strings.TrimRight(out[strings.LastIndex(strings.TrimRight(out, "\n"), "\n")+1:], "\n")); rm == nil || rm[1] != "10" {
		t.Fatalf("after deletes: %q", out)
	}
}

func TestPingWithCredentials(t *testing.T) {
	addr := startServer(t, map[string]string{"alice": "pw"})
	out := spark(t, "", "ping", "-server", "alice:pw@"+addr)
	if want := "Successfully connected to tcp://alice@" + addr + "/amps/json\n"; out != want {
		t.Fatalf("ping output %q, want %q", out, want)
	}
	cmd := exec.Command(sparkBin, "ping", "-server", "alice:wrong@"+addr)
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(errOut.String(), "auth failure") {
		t.Fatalf("bad password: %v, stderr %q", err, errOut.String())
	}
}

// TestSowAndSubscribePrintsSnapshotThenLive runs spark sow_and_subscribe as a
// process, sees the snapshot, publishes a live update, sees it, and stops
// spark with an interrupt.
func TestSowAndSubscribePrintsSnapshotThenLive(t *testing.T) {
	addr := startServer(t, nil)
	pub := amps.NewClient("e2e-pub")
	t.Cleanup(func() { _ = pub.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := pub.Connect(ctx, "tcp://"+addr+"/amps/json"); err != nil {
		t.Fatal(err)
	}
	if _, err := pub.Logon(ctx); err != nil {
		t.Fatal(err)
	}
	if err := pub.Publish("Orders", []byte(`{"order_key":1,"symbol":"IBM"}`)); err != nil {
		t.Fatal(err)
	}
	if err := pub.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, sparkBin, "sow_and_subscribe", "-server", addr, "-topic", "Orders",
		"-filter", "/symbol = 'IBM'", "-format", "{command} {data}")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 10)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	next := func() string {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("spark exited early")
			}
			return l
		case <-ctx.Done():
			t.Fatal("no output from spark")
		}
		return ""
	}
	if l := next(); l != `sow {"order_key":1,"symbol":"IBM"}` {
		t.Fatalf("snapshot line %q", l)
	}
	// The snapshot arrived, so the subscription is live (sow_and_subscribe
	// is atomic): publishes now reach spark.
	if err := pub.Publish("Orders", []byte(`{"order_key":2,"symbol":"MSFT"}`)); err != nil {
		t.Fatal(err)
	}
	if err := pub.Publish("Orders", []byte(`{"order_key":3,"symbol":"IBM"}`)); err != nil {
		t.Fatal(err)
	}
	if l := next(); l != `publish {"order_key":3,"symbol":"IBM"}` {
		t.Fatalf("live line %q", l)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	for range lines {
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("spark after interrupt: %v", err)
	}
}
