package compare

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"ampsflume/bench/scenario"
)

// Options control a comparison.
type Options struct {
	Exe    string    // binary to re-execute for the children (default: this one)
	Runs   int       // runs per side (default 5)
	Short  bool      // tiny counts: a smoke test
	Only   []string  // scenario names; empty: all
	TmpDir string    // parent of the scratch directories (default: os.TempDir())
	Log    io.Writer // progress lines (default: discarded)
}

// Run is one child run of one side.
type Run struct {
	Result scenario.Result
	MaxRSS int64 // bytes
	Err    error
}

// Outcome is every run of one scenario.
type Outcome struct {
	Scenario *scenario.Scenario
	Runs     map[string][]Run // by side
}

// Compare runs the selected scenarios.
func Compare(ctx context.Context, o Options) ([]*Outcome, error) {
	if o.Exe == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, err
		}
		o.Exe = exe
	}
	if o.Runs <= 0 {
		o.Runs = 5
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	var out []*Outcome
	for _, s := range scenario.All() {
		if len(o.Only) > 0 && !slices.Contains(o.Only, s.Name) {
			continue
		}
		oc, err := compareOne(ctx, o, s)
		if err != nil {
			return out, err
		}
		out = append(out, oc)
	}
	return out, nil
}

func sidesOf(s *scenario.Scenario) []string {
	var sides []string
	for _, side := range []string{scenario.Ours, scenario.Peer} {
		if s.Run[side] != nil {
			sides = append(sides, side)
		}
	}
	return sides
}

func compareOne(ctx context.Context, o Options, s *scenario.Scenario) (*Outcome, error) {
	oc := &Outcome{Scenario: s, Runs: map[string][]Run{}}
	root, err := os.MkdirTemp(o.TmpDir, "compare-"+s.Name+"-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(root)
	sides := sidesOf(s)
	shared := map[string]string{}
	prepFailed := map[string]error{}
	for _, side := range sides {
		if s.Prepare[side] == nil {
			continue
		}
		dir := filepath.Join(root, "shared-"+side)
		shared[side] = dir
		fmt.Fprintf(o.Log, "%s/%s: preparing\n", s.Name, side)
		r := child(ctx, o, s.Name, side, true, filepath.Join(root, "prep-"+side), dir)
		if r.Err != nil {
			prepFailed[side] = fmt.Errorf("prepare: %w", r.Err)
		}
	}
	for i := 0; i < o.Runs; i++ {
		order := slices.Clone(sides)
		if i%2 == 1 {
			slices.Reverse(order)
		}
		for _, side := range order {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			var r Run
			if err := prepFailed[side]; err != nil {
				r.Err = err
			} else {
				dir := filepath.Join(root, fmt.Sprintf("run%d-%s", i, side))
				r = child(ctx, o, s.Name, side, false, dir, shared[side])
				os.RemoveAll(dir)
			}
			oc.Runs[side] = append(oc.Runs[side], r)
			if r.Err != nil {
				fmt.Fprintf(o.Log, "%s/%s run %d: FAILED: %v\n", s.Name, side, i+1, r.Err)
			} else {
				fmt.Fprintf(o.Log, "%s/%s run %d: %s %s in %v, peak RSS %s\n", s.Name, side, i+1,
					fmtRate(r.Result.Rate()), s.Unit, r.Result.Elapsed.Round(time.Millisecond), fmtBytes(r.MaxRSS))
			}
		}
	}
	return oc, nil
}

// child runs one side in a child process and reads back its result and its
// peak resident set size.
func child(ctx context.Context, o Options, name, side string, prepare bool, dir, shared string) Run {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Run{Err: err}
	}
	args := []string{"-" + flagScenario, name, "-" + flagSide, side, "-dir", dir}
	if shared != "" {
		args = append(args, "-shared", shared)
	}
	if o.Short {
		args = append(args, "-short")
	}
	if prepare {
		args = append(args, "-prepare")
	}
	cmd := exec.CommandContext(ctx, o.Exe, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var r Run
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			r.MaxRSS = ru.Maxrss * 1024 // kilobytes on Linux
		}
	}
	if err != nil {
		r.Err = fmt.Errorf("%w: %s", err, strings.TrimSpace(lastLines(stderr.String(), 5)))
		return r
	}
	if err := json.Unmarshal(lastLine(stdout.Bytes()), &r.Result); err != nil {
		r.Err = fmt.Errorf("reading the result: %w (output %q)", err, stdout.String())
	}
	return r
}

func lastLine(b []byte) []byte {
	b = bytes.TrimSpace(b)
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		return b[i+1:]
	}
	return b
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
