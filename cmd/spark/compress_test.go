package main

import (
	"bufio"
	"bytes"
	"context"
	"log/slog"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"ampsflume/amps"
	"ampsflume/ampserver"
)

// startCompressedServer runs a server whose only transport takes
// compression=zlib clients, and returns its address and a plain one's.
func startCompressedServer(t *testing.T) (zlibAddr, plainAddr string) {
	t.Helper()
	cfg := ampserver.DefaultConfig()
	cfg.SOW = []ampserver.SOWTopicConfig{{Name: "Orders", MessageType: "json", Keys: []string{"/order_key"}}}
	cfg.Transports = append(cfg.Transports, ampserver.TransportConfig{
		Name: "json-zlib", Type: "tcp", InetAddr: "127.0.0.1:0", Protocol: "amps", MessageType: "json",
		Compression: ampserver.CompressionZlib,
	})
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
	return s.Addr("json-zlib").String(), s.TCPAddr().String()
}

// Every spark command works over a compressed connection (-uriopts
// compression=zlib), and against a transport that does not compress it
// fails with an error that says so instead of hanging.
func TestCompressedConnectionEveryCommand(t *testing.T) {
	addr, plain := startCompressedServer(t)
	z := []string{"-server", addr, "-uriopts", "compression=zlib"}
	args := func(cmd string, more ...string) []string { return append(append([]string{cmd}, z...), more...) }

	if out := spark(t, "", args("ping")...); out != "Successfully connected to tcp://"+addr+"/amps/json\n" {
		t.Fatalf("ping output %q", out)
	}
	out := spark(t, "", args("publish", "-topic", "Orders", "-file", "testdata/messages.json")...)
	if m := publishedRE.FindStringSubmatch(out); m == nil || m[1] != "15" {
		t.Fatalf("publish output %q", out)
	}
	out = spark(t, "", args("sow", "-topic", "Orders", "-batchsize", "4")...)
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 16 {
		t.Fatalf("sow printed %d lines:\n%s", len(lines), out)
	}
	if rm := receivedRE.FindStringSubmatch(lines[15]); rm == nil || rm[1] != "15" {
		t.Fatalf("sow trailer %q", lines[15])
	}
	out = spark(t, "", args("sow_delete", "-topic", "Orders", "-filter", "/symbol = 'FIZZ'")...)
	if m := regexp.MustCompile(`^Deleted (\d+) records in \d+ms\.\n$`).FindStringSubmatch(out); m == nil || m[1] != "3" {
		t.Fatalf("sow_delete output %q", out)
	}

	// sow_and_subscribe, then subscribe: a snapshot or live line arrives
	// through the compressed stream, and an interrupt ends spark.
	for _, tc := range []struct {
		cmd   string
		extra []string
		first string // printed before anything is published here
	}{
		{"sow_and_subscribe", []string{"-filter", "/order_key = 1"}, "sow"},
		{"subscribe", nil, ""},
	} {
		t.Run(tc.cmd, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, sparkBin, args(tc.cmd, append([]string{"-topic", "Orders", "-format", "{command} {data}"}, tc.extra...)...)...)
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			lines := make(chan string, 1000)
			go func() {
				sc := bufio.NewScanner(stdout)
				for sc.Scan() {
					lines <- sc.Text()
				}
				close(lines)
			}()
			pub := amps.NewClient("zpub-" + tc.cmd)
			t.Cleanup(func() { _ = pub.Close() })
			if err := pub.Connect(ctx, "tcp://"+addr+"/amps/json?compression=zlib"); err != nil {
				t.Fatal(err)
			}
			if _, err := pub.Logon(ctx); err != nil {
				t.Fatal(err)
			}
			if tc.first != "" {
				if l := <-lines; !strings.HasPrefix(l, tc.first+" ") {
					t.Fatalf("first line %q", l)
				}
			}
			// A plain subscribe prints nothing until a message comes, so
			// keep publishing until one is printed: then it is live.
			want := `publish {"order_key":1,"symbol":"LIVE"}`
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
		wait:
			for {
				if err := pub.Publish("Orders", []byte(`{"order_key":1,"symbol":"LIVE"}`)); err != nil {
					t.Fatal(err)
				}
				select {
				case l, ok := <-lines:
					if !ok {
						t.Fatal("spark exited early")
					}
					if l != want {
						t.Fatalf("live line %q, want %q", l, want)
					}
					break wait
				case <-tick.C:
				case <-ctx.Done():
					t.Fatal("no live line from spark")
				}
			}
			if err := cmd.Process.Signal(os.Interrupt); err != nil {
				t.Fatal(err)
			}
			for range lines {
			}
			if err := cmd.Wait(); err != nil {
				t.Fatalf("spark after interrupt: %v", err)
			}
		})
	}

	// A compressed client on a plain transport: a clear error, exit 1.
	cmd := exec.Command(sparkBin, "ping", "-server", plain, "-uriopts", "compression=zlib")
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(errOut.String(), "compression") {
		t.Fatalf("compressed ping of a plain transport: %v, stderr %q", err, errOut.String())
	}
}
