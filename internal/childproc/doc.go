// Package childproc runs the module's commands as child processes in tests
// that crash them: start a flume-ng agent (or any command built by
// internal/buildbin), read its log while it runs, kill it with SIGKILL at a
// random moment, or stop it with SIGTERM and check that it exits cleanly.
//
// What it guarantees:
//   - Kill delivers a real SIGKILL to the process (no signal handler, no
//     flush) and returns only once the process is gone and reaped, so a
//     restart on the same directories never overlaps its predecessor.
//   - Stop sends SIGTERM only once the process has logged that it handles
//     it (for an agent, its "agent started" line), because a SIGTERM that
//     arrives earlier kills the process outright; it fails the test unless
//     the process then exits with status 0 in the given time.
//   - A process still running when its test ends is killed by the test's
//     cleanup; no child outlives its test.
//   - An Output may be shared by processes that run one after another (one
//     log across restarts); each Proc's Log is only what it wrote itself.
//
// Rand gives the crash tests their kill moments, seeded from CRASH_SEED when
// set so that a failing run can be replayed.
package childproc
