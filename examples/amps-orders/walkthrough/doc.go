// Package walkthrough runs the article's example end to end in one process:
// the AMPS-compatible server embedded from the example's amps-config.xml,
// the Flume agent built by the real configuration loader from the
// example's flume-conf.properties, and a publisher sending messages.json
// through the AMPS client at the article's pace (one message per second).
// It follows the file_roll output as lines land and compares the finished
// file with expected-output.jsonl byte for byte.
//
// Guarantees:
//   - The server starts in a fresh working directory (relative SOW and
//     journal paths are resolved under it), so a persistent SOW left by an
//     earlier run cannot change the averages.
//   - Unless Options.PortsFromConfig is set, every listener (transports and
//     admin) binds an OS-chosen loopback port, so a run never collides with
//     a server already on the example's fixed ports; the agent's uri keys
//     are pointed at the port actually bound.
//   - Publishing starts only once the agent has logged on and its
//     sow_and_subscribe has been accepted, so no order reaches the server
//     before the subscription exists.
//   - Everything started is stopped before Run returns, the agent first (its
//     sink finishes the batch in hand), then the server; the output is read
//     after both, so a late extra line is not missed.
//
// Run is what `go run ./examples/amps-orders` executes, and what the
// end-to-end tests call.
package walkthrough
