package childproc

import (
	"bytes"
	"fmt"
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

// TailBytes is how much of a child's output a failure message shows: the
// end, where the reason usually is, without flooding the test log with a
// whole run of restarts.
const TailBytes = 8000

// reapTimeout bounds the wait for a killed process to be reaped, and for a
// started agent to log that it handles SIGTERM: only a broken run takes
// that long.
const reapTimeout = 30 * time.Second

// Output collects what a child writes while the test reads it.
type Output struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

// String is everything written so far.
func (o *Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

// Tail is the last TailBytes of the output, for failure messages.
func (o *Output) Tail() string { return tail(o.String()) }

func (o *Output) len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Len()
}

func (o *Output) from(off int) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return string(o.b.Bytes()[off:])
}

func tail(s string) string {
	if len(s) > TailBytes {
		return "..." + s[len(s)-TailBytes:]
	}
	return s
}

// Proc is one started child process.
type Proc struct {
	cmd  *exec.Cmd
	name string
	out  *Output
	off  int // out's length when the process started
	// ready is the log text that says the process handles SIGTERM; ""
	// when it does from the start.
	ready  string
	exited chan struct{}
	err    error // Wait's result, valid once exited is closed
}

// Start starts cmd with its standard error going to out (a new Output when
// out is nil). The rest of cmd is used as the caller set it: its Dir, and
// its Stdout, which a test that reads what the command prints (apart from
// its log, or mixed into it) sets to an Output of its own or to out. The
// process is killed when the test ends if it still runs.
func Start(t testing.TB, cmd *exec.Cmd, out *Output) *Proc {
	t.Helper()
	if out == nil {
		out = &Output{}
	}
	p := &Proc{cmd: cmd, out: out, off: out.len(), exited: make(chan struct{})}
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", cmd.Path, err)
	}
	p.name = fmt.Sprintf("%s (pid %d)", filepath.Base(cmd.Path), cmd.Process.Pid)
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() { p.Kill(t) })
	return p
}

// StartAgent runs `binary agent -n name -f conf --no-reload-conf
// -Dflume.root.logger=INFO,console` followed by args, binary being
// flume-ng. Stop waits for the agent's "agent started" line.
func StartAgent(t testing.TB, binary, name, conf string, out *Output, args ...string) *Proc {
	t.Helper()
	argv := append([]string{"agent", "-n", name, "-f", conf, "--no-reload-conf",
		"-Dflume.root.logger=INFO,console"}, args...)
	p := Start(t, exec.Command(binary, argv...), out)
	// The agent logs this once its components run, after it has installed
	// its signal handler.
	p.ready = `msg="agent started"`
	return p
}

// Output is where the process writes its standard error, shared with the
// processes that used it before.
func (p *Proc) Output() *Output { return p.out }

// Log is what this process has written to its Output.
func (p *Proc) Log() string { return p.out.from(p.off) }

// Exited is closed once the process has exited and been reaped.
func (p *Proc) Exited() <-chan struct{} { return p.exited }

// Err is the process's exit error (nil for status 0), valid once Exited is
// closed.
func (p *Proc) Err() error {
	<-p.exited
	return p.err
}

// Running reports whether the process has not exited yet.
func (p *Proc) Running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// Alive is nil while the process runs, and says how it ended, with the end
// of its output, once it has exited without being told to: a condition a
// poll.Until callback can return.
func (p *Proc) Alive() error {
	if p.Running() {
		return nil
	}
	return fmt.Errorf("%s exited by itself: %v\n%s", p.name, p.err, tail(p.Log()))
}

// Kill sends SIGKILL, unless the process has exited already, and waits for
// it to be gone.
func (p *Proc) Kill(t testing.TB) {
	t.Helper()
	if p.Running() {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
	}
	select {
	case <-p.exited:
	case <-time.After(reapTimeout):
		t.Fatalf("%s did not die after SIGKILL", p.name)
	}
}

// Stop waits until the process has logged that it handles SIGTERM (see
// StartAgent), sends SIGTERM and fails the test unless the process exits
// with status 0 within the given time.
func (p *Proc) Stop(t testing.TB, within time.Duration) {
	t.Helper()
	if !p.Running() {
		t.Fatalf("%s exited before it was stopped: %v\n%s", p.name, p.err, tail(p.Log()))
	}
	if p.ready != "" {
		poll.Until(t, reapTimeout, func() error {
			if err := p.Alive(); err != nil {
				return err
			}
			if !strings.Contains(p.Log(), p.ready) {
				return fmt.Errorf("%s not started yet:\n%s", p.name, tail(p.Log()))
			}
			return nil
		})
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM to %s: %v", p.name, err)
	}
	select {
	case <-p.exited:
		if p.err != nil {
			t.Fatalf("%s exit after SIGTERM: %v\n%s", p.name, p.err, tail(p.Log()))
		}
	case <-time.After(within):
		t.Fatalf("%s did not stop within %v of SIGTERM:\n%s", p.name, within, tail(p.Log()))
	}
}

// LogValue is the value of key in the first line of this process's log
// with message msg, or "" when there is none yet. It reads the agent's text
// handler (msg="..." key=value) and the standard logger's format (INFO
// message key=value).
func (p *Proc) LogValue(msg, key string) string {
	re := regexp.MustCompile(regexp.QuoteMeta(msg) + `"?[^\n]* ` + regexp.QuoteMeta(key) + `=(\S+)`)
	if m := re.FindStringSubmatch(p.Log()); m != nil {
		return m[1]
	}
	return ""
}

// Rand returns a generator seeded from the CRASH_SEED environment variable
// when set, otherwise from the clock; the seed is logged so that a failure
// can be replayed.
func Rand(t testing.TB) *rand.Rand {
	t.Helper()
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
