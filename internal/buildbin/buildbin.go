// Package buildbin builds the module's commands for tests that run them as
// child processes (a real flume-ng killed with SIGKILL, a real ampserver),
// so that such tests never depend on a stale bin/ directory. One go build
// per test binary compiles every command it needs; the build cache makes the
// repeats across packages cheap.
package buildbin

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"

	"go.uber.org/goleak"
)

// Race reports whether the running test binary was built with -race, for
// callers that want their commands built the same way.
const Race = raceEnabled

// Set is a directory of freshly built commands.
type Set struct {
	// Dir holds one executable per command, named after its directory.
	Dir string
}

// Build compiles the commands, given relative to the module root
// ("cmd/flume-ng"), into a new temporary directory with one go build; race
// adds -race. Call Remove when the tests are done.
func Build(race bool, cmds ...string) (Set, error) {
	dir, err := os.MkdirTemp("", "ampsflume-bin-")
	if err != nil {
		return Set{}, err
	}
	args := []string{"build", "-o", dir + string(filepath.Separator)}
	if race {
		args = append(args, "-race")
	}
	for _, c := range cmds {
		args = append(args, "./"+filepath.ToSlash(c))
	}
	build := exec.Command(goCommand(), args...)
	build.Dir = moduleRoot()
	if out, err := build.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return Set{}, fmt.Errorf("go build %v: %w\n%s", cmds, err, out)
	}
	return Set{Dir: dir}, nil
}

// Path is the executable of the command whose directory is name
// ("flume-ng").
func (s Set) Path(name string) string {
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	return filepath.Join(s.Dir, name)
}

// Remove deletes the directory.
func (s Set) Remove() {
	if s.Dir != "" {
		os.RemoveAll(s.Dir)
	}
}

// Main is the whole TestMain of a package whose tests only need the
// commands: it builds them, hands the set to use, runs the tests, fails the
// run if the tests left goroutines behind (a child's output copier or
// waiter that nobody reaped, say) and removes the set. It returns the exit
// code for os.Exit.
func Main(m interface{ Run() int }, use func(Set), race bool, cmds ...string) int {
	s, err := Build(race, cmds...)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return run(m, s, use)
}

// run is Main once the set is built.
func run(m interface{ Run() int }, s Set, use func(Set)) int {
	defer s.Remove()
	use(s)
	code := m.Run()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			return 1
		}
	}
	return code
}

// goCommand is the go command of the toolchain running the tests: go test
// puts its own bin directory first on the tests' PATH, so the tests build
// with the toolchain that built them.
func goCommand() string {
	if g, err := exec.LookPath("go"); err == nil {
		return g
	}
	return "go"
}

// moduleRoot is found from this file's own location: tests run in their
// package's directory, at various depths.
func moduleRoot() string {
	_, here, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(here), "..", "..")
}
