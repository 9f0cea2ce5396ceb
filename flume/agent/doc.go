// Package agent is the engine of a Flume agent: it builds the components of
// a validated configuration through the flume registry, wires sources to
// channels through a channel processor (interceptors, then a replicating,
// multiplexing or load-balancing selector) and sinks to channels through
// sink runners and sink processors (default, failover, load_balance), and
// runs them.
//
// Guarantees:
//   - Channels start first, then sinks, then sources; stopping runs in
//     reverse, and a runner's in-flight Process call finishes (committing or
//     rolling back) before its component is stopped.
//   - A pollable source or a sink that reports Backoff sleeps Flume's
//     min(n × increment, max), but never while data is pending: a source's
//     SourceEnv.Wake, and any commit by a channel processor into a channel,
//     end the sleep of the runners waiting on it at once.
//   - Each required channel of an event gets its own transaction, in
//     sequence; a failure stops the batch and is returned (commits already
//     made to earlier channels stay, as in Flume). Optional channels'
//     failures are logged and ignored.
//   - A reload stops every source and sink and starts the new set; channels
//     that implement flume.Reconfigurable (memory) are kept as the same
//     instance, so their queued events survive. A new configuration with
//     errors is refused and the running one kept.
package agent
