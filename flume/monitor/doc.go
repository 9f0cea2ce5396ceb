// Package monitor serves an agent's component counters the way Flume does:
// an HTTP endpoint with Flume's JSON shape ({"SOURCE.r1":{...}, ...}, every
// value a string), or Prometheus text exposition through client_golang.
//
// The servers read the counters on every request through a Gatherer, so a
// reloaded agent's new components appear without restarting the server. They
// bind to 127.0.0.1 unless told otherwise.
package monitor
