package compare

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"slices"

	"ampsflume/bench/scenario"
)

// Flags that make the binary run one side of one scenario and exit.
const (
	flagScenario = "run-scenario"
	flagSide     = "side"
)

// IsChild tells whether args ask for a child run.
func IsChild(args []string) bool {
	return slices.Contains(args, "-"+flagScenario) || slices.Contains(args, "--"+flagScenario)
}

// ChildMain runs one side of one scenario as args describe and writes its
// scenario.Result as one JSON line to stdout. It returns the exit code.
func ChildMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("compare child", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String(flagScenario, "", "scenario to run")
	side := fs.String(flagSide, scenario.Ours, "ours or peer")
	short := fs.Bool("short", false, "tiny counts")
	prepare := fs.Bool("prepare", false, "build the shared data instead of a timed run")
	dir := fs.String("dir", "", "scratch directory of the run")
	shared := fs.String("shared", "", "directory shared by the runs of this side")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file")
	memProfile := fs.String("memprofile", "", "write an allocation profile of the run to this file")
	traceFile := fs.String("trace", "", "write an execution trace of the run to this file (go tool trace)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	if *memProfile != "" {
		runtime.MemProfileRate = 64 << 10
		defer func() {
			if err := writeHeapProfile(*memProfile); err != nil {
				fmt.Fprintln(stderr, err)
			}
		}()
	}
	if *traceFile != "" {
		f, err := os.Create(*traceFile)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		defer f.Close()
		if err := trace.Start(f); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		defer trace.Stop()
	}
	res, err := runChild(*name, *side, *short, *prepare, *dir, *shared)
	if err != nil {
		fmt.Fprintf(stderr, "%s/%s: %v\n", *name, *side, err)
		return 1
	}
	if err := json.NewEncoder(stdout).Encode(res); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}

func runChild(name, side string, short, prepare bool, dir, shared string) (scenario.Result, error) {
	s, err := scenario.Find(name)
	if err != nil {
		return scenario.Result{}, err
	}
	p := s.Full
	if short {
		p = s.Short
	}
	if dir == "" {
		return scenario.Result{}, fmt.Errorf("-dir is required")
	}
	p.Dir, p.Shared = dir, shared
	table := s.Run
	if prepare {
		table = s.Prepare
	}
	fn := table[side]
	if fn == nil {
		return scenario.Result{}, fmt.Errorf("scenario %q has no %s side (prepare=%v)", name, side, prepare)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	return fn(ctx, p)
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return pprof.Lookup("allocs").WriteTo(f, 0)
}
