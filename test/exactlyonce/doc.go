// Package exactlyonce holds the crash test of exactly-once delivery from an
// AMPS topic into files: an AMPS source with exactlyOnce = true and a
// bookmark log, a file channel, and a file_roll sink with
// sink.dedupe.header. The agent, a real flume-ng process, is killed with
// SIGKILL at many random moments (while starting, recovering, reading,
// writing, rolling) and restarted on the same directories, while an
// embedded AMPS server with a journaled topic keeps the messages; at the end
// every published message must be in the output exactly once. The package
// has no code of its own.
package exactlyonce
