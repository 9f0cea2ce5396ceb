// Package monitor serves an agent's component counters the way Flume does:
// an HTTP endpoint with Flume's JSON shape ({"SOURCE.r1":{...}, ...}, every
// value a string), or Prometheus text exposition through client_golang.
//
// The servers read the counters on every request through a Gatherer, so a
// reloaded agent's new components appear without restarting the server. They
// bind to 127.0.0.1 unless told otherwise.
//
// Both servers also serve a live status page at / (HTML, CSS and JavaScript
// embedded in the binary, no external resources): the agent's topology as a
// graph — sources, selectors, channels, sink processors, sinks — with each
// component's counters, event rates, channel fill levels and what it reports
// through flume.StatusReporter (an AMPS source's connection, server URI and
// last bookmark) and errors. The page reads /events, a server-sent event
// stream of Status once a second, and falls back to polling /status.json.
// Rates are measured between two successive samples of the counters; the
// topology comes from a Gatherer that is also a StatusProvider (the agent),
// otherwise the components are shown unconnected. /metrics is unchanged.
package monitor
