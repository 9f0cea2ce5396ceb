// Package crash holds tests that kill a real flume-ng agent process with
// SIGKILL at random moments and restart it on the same directories, to
// prove what the durable channels promise: every event committed to the
// channel reaches the sink's output after restarts (duplicates allowed, at
// most one sink batch per crash), and a channel killed in the middle of its
// work reopens without manual repair. The queue tests do the same to an
// agent consuming an AMPS message queue and to the ampserver serving it:
// every message the publisher saw persisted reaches the output, and each
// kill repeats at most the messages leased and not yet acknowledged
// (max_backlog), plus the sink batch when the agent dies. The package has
// no code of its own; its tests build cmd/flume-ng and cmd/ampserver and
// drive them as a user would.
package crash
