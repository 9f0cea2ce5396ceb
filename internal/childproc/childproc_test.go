package childproc

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"ampsflume/internal/poll"
)

// childEnv selects what the test binary does when it runs as a child of
// these tests instead of running them; gateEnv names the file the "agent"
// child waits for.
const (
	childEnv = "CHILDPROC_TEST_CHILD"
	gateEnv  = "CHILDPROC_TEST_GATE"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		os.Exit(child(mode))
	}
	goleak.VerifyTestMain(m)
}

// child is the test binary's behaviour as a child process. "agent" logs a
// line with the address in its last argument, waits for the gate file
// before it handles SIGTERM (until then SIGTERM kills it), then logs the
// agent's started line and exits 0 on SIGTERM. "pwd" prints its working
// directory on standard output and a line on standard error. "exit3" writes
// a line and exits with status 3.
func child(mode string) int {
	switch mode {
	case "agent":
		fmt.Fprintf(os.Stderr, "level=INFO msg=\"listening\" addr=%s\n", os.Args[len(os.Args)-1])
		fmt.Fprintln(os.Stderr, `level=INFO msg="waiting for the gate"`)
		for {
			if _, err := os.Stat(os.Getenv(gateEnv)); err == nil {
				break
			}
			time.Sleep(poll.Interval)
		}
		term := make(chan os.Signal, 1)
		signal.Notify(term, syscall.SIGTERM)
		fmt.Fprintln(os.Stderr, `level=INFO msg="agent started"`)
		<-term
		fmt.Fprintln(os.Stderr, `level=INFO msg="agent stopped"`)
		return 0
	case "pwd":
		dir, err := os.Getwd()
		if err != nil {
			return 2
		}
		fmt.Println(dir)
		fmt.Fprintln(os.Stderr, "log")
		return 0
	case "exit3":
		fmt.Fprintln(os.Stderr, "bye")
		return 3
	}
	return 1
}

// startChild starts the test binary as an agent child writing to out; addr
// ends up in its "listening" line. It returns the gate file.
func startChild(t *testing.T, out *Output, addr string) (*Proc, string) {
	t.Helper()
	gate := filepath.Join(t.TempDir(), "gate")
	t.Setenv(childEnv, "agent")
	t.Setenv(gateEnv, gate)
	return StartAgent(t, os.Args[0], "a", "unused.properties", out, addr), gate
}

func open(t *testing.T, gate string) {
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Error(err)
	}
}

// waitLog polls until the process's log holds s.
func waitLog(t *testing.T, p *Proc, s string) {
	t.Helper()
	poll.Until(t, 30*time.Second, func() error {
		if err := p.Alive(); err != nil {
			return err
		}
		if !strings.Contains(p.Log(), s) {
			return fmt.Errorf("no %q in:\n%s", s, p.Log())
		}
		return nil
	})
}

func TestKill(t *testing.T) {
	p, _ := startChild(t, nil, "127.0.0.1:1")
	waitLog(t, p, "waiting for the gate")
	if err := p.Alive(); err != nil {
		t.Fatal(err)
	}
	p.Kill(t)
	if p.Running() {
		t.Fatal("running after Kill")
	}
	var exit *exec.ExitError
	if err := p.Err(); !errors.As(err, &exit) {
		t.Fatalf("exit error %v, want a signal", err)
	}
	if ws, ok := exit.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("exit %v, want killed by SIGKILL", exit)
	}
	// Killing a process that is gone returns at once.
	p.Kill(t)
}

// TestStopWaitsForStarted: Stop sends SIGTERM only once the agent has
// logged that it started. Until its gate opens the child does not handle
// SIGTERM, so a Stop that signalled at once would see it die of the signal
// and fail; the gate opens only once the child waits at it.
func TestStopWaitsForStarted(t *testing.T) {
	p, gate := startChild(t, nil, "127.0.0.1:1")
	opened := make(chan struct{})
	go func() {
		defer close(opened)
		for p.Running() && !strings.Contains(p.Log(), "waiting for the gate") {
			time.Sleep(poll.Interval)
		}
		open(t, gate)
	}()
	p.Stop(t, 30*time.Second)
	<-opened
	if err := p.Err(); err != nil {
		t.Fatalf("exit %v after Stop", err)
	}
	if log := p.Log(); !strings.Contains(log, `msg="agent stopped"`) {
		t.Fatalf("no clean stop in:\n%s", log)
	}
}

// TestSharedOutput: processes run one after another on one Output; each
// one's Log and LogValue see only what it wrote, the Output all of it.
func TestSharedOutput(t *testing.T) {
	out := &Output{}
	first, _ := startChild(t, out, "127.0.0.1:1")
	waitLog(t, first, "waiting for the gate")
	first.Kill(t)
	second, gate := startChild(t, out, "127.0.0.1:2")
	open(t, gate)
	waitLog(t, second, "agent started")
	if got := second.LogValue("listening", "addr"); got != "127.0.0.1:2" {
		t.Errorf("second LogValue = %q, want 127.0.0.1:2", got)
	}
	if got := first.LogValue("listening", "addr"); got != "127.0.0.1:1" {
		t.Errorf("first LogValue = %q, want 127.0.0.1:1", got)
	}
	if got := second.LogValue("no such message", "addr"); got != "" {
		t.Errorf("LogValue of a missing message = %q", got)
	}
	if strings.Count(out.String(), `msg="listening"`) != 2 || strings.Count(second.Log(), `msg="listening"`) != 1 {
		t.Errorf("output:\n%s\nsecond's log:\n%s", out.String(), second.Log())
	}
	second.Stop(t, 30*time.Second)
}

// TestExitedByItself: Alive reports a process that ended on its own, with
// its output; Stop is not needed and Kill does nothing.
func TestExitedByItself(t *testing.T) {
	t.Setenv(childEnv, "exit3")
	p := Start(t, exec.Command(os.Args[0]), nil)
	<-p.Exited()
	err := p.Alive()
	if err == nil || !strings.Contains(err.Error(), "exited by itself") || !strings.Contains(err.Error(), "bye") {
		t.Fatalf("Alive = %v", err)
	}
	var exit *exec.ExitError
	if !errors.As(p.Err(), &exit) || exit.ExitCode() != 3 {
		t.Fatalf("Err = %v, want exit status 3", p.Err())
	}
	p.Kill(t)
}

func TestTail(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
	}{
		{"", ""},
		{"short", "short"},
		{strings.Repeat("a", TailBytes), strings.Repeat("a", TailBytes)},
		{"x" + strings.Repeat("a", TailBytes), "..." + strings.Repeat("a", TailBytes)},
	} {
		o := &Output{}
		o.Write([]byte(tc.in))
		if got := o.Tail(); got != tc.want {
			t.Errorf("Tail of %d bytes: %d bytes %.10q, want %d bytes", len(tc.in), len(got), got, len(tc.want))
		}
	}
}

func TestRandReplays(t *testing.T) {
	t.Setenv("CRASH_SEED", "42")
	a, b := Rand(t), Rand(t)
	for range 10 {
		if x, y := a.Uint64(), b.Uint64(); x != y {
			t.Fatalf("same seed, different draws %d and %d", x, y)
		}
	}
}

// The command's working directory and standard output are the caller's:
// what it prints stays apart from its log unless both go to one Output.
func TestCallerDirAndStdout(t *testing.T) {
	t.Setenv(childEnv, "pwd")
	dir := t.TempDir()
	want, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		shared bool
	}{
		{"separate", false},
		{"shared", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0])
			cmd.Dir = dir
			log, stdout := &Output{}, &Output{}
			if tt.shared {
				stdout = log
			}
			cmd.Stdout = stdout
			p := Start(t, cmd, log)
			if err := p.Err(); err != nil {
				t.Fatalf("exit: %v\n%s", err, p.Log())
			}
			printed, _, _ := strings.Cut(stdout.String(), "\n")
			got, err := filepath.EvalSymlinks(printed)
			if err != nil || got != want {
				t.Fatalf("working directory %q (%v), want %q", printed, err, want)
			}
			wantLog := "log\n"
			if tt.shared {
				wantLog = printed + "\n" + wantLog
			} else if stdout.String() != printed+"\n" {
				t.Errorf("stdout %q, want only the directory", stdout.String())
			}
			if p.Log() != wantLog {
				t.Errorf("log %q, want %q", p.Log(), wantLog)
			}
		})
	}
}
