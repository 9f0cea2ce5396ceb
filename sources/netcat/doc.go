// Package netcat is Flume's netcat source (type "netcat",
// org.apache.flume.source.NetcatSource): an event-driven source listening on
// a TCP port, turning every line a client sends into one event.
//
// Behaviour follows Flume: the body is the line without its '\n' (a '\r'
// before it is kept); with ack-every-event the source answers "OK\n" once the
// event is committed to the channels, and always answers "FAILED: <reason>\n"
// when the channels refuse it. A line of max-line-length characters or more
// (the limit counts the newline) is not delivered: the client gets
// "FAILED: Event exceeds the maximum length (N chars, including newline)\n"
// and its connection is closed, as Flume does, and the line is counted in
// EventReadFail. Data after the last newline when the client disconnects is
// discarded.
//
// Each connection is served by its own goroutine; Stop closes the listener
// and every connection and waits for them.
package netcat
