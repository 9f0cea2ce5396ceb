//go:build race

package walkthrough

// raceEnabled makes TestMain build the commands with the race detector too,
// so that a data race in a child process fails the run as well.
const raceEnabled = true
