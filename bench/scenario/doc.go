// Package scenario holds the benchmark scenarios that compare ampsflume with
// its peers (nats-server, nats.go, JetStream, Benthos) on the same machine in
// the same run. Each scenario has two sides, "ours" and "peer", that do the
// same work with the same payloads and the same durability, and each side
// verifies on the receiving end that every message arrived, in order and
// with its full payload, before it reports a result: a run that loses or
// reorders a message fails instead of reporting a rate.
//
// A side runs in a process of its own (see package compare), so that its
// peak memory and CPU time are its own. Publishers on every side use the
// same credit window: they stop while more than Window messages are
// published but not yet received. Both systems treat an unbounded backlog as
// a slow consumer (ampserver disconnects it, a NATS chan subscription drops
// messages), so the window measures the throughput each system sustains
// without loss rather than how much it can buffer.
package scenario
