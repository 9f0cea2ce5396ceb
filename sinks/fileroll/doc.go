// Package fileroll is Flume's rolling file sink (type "file_roll",
// org.apache.flume.sink.RollingFileSink): it writes the events of one channel
// to files in a local directory and starts a new file every rollInterval.
//
// File names follow Flume's path managers: "default" names files
// <prefix><startMillis>-<n>[.<extension>], where startMillis is fixed when
// the sink is configured and n counts from 1; "rolltime" names them
// <prefix><yyyyMMddHHmmss>-<n>[.<extension>] in local time, n restarting
// whenever the timestamp changes. An existing file is never overwritten or
// appended to: a clashing name is skipped.
//
// Guarantees: each Process call writes one transaction's batch, flushes it
// (and fsyncs it when sink.fsync is true) and only then commits, so an event
// leaves the channel only once it is in the file (at least in the page cache
// without fsync). When writing, flushing or committing fails, the file is
// truncated back to where the batch began before the transaction is rolled
// back, so the retry does not duplicate a partial batch. Flume leaves those
// events in the file; this sink does not. As in Flume, the file is opened
// before events are taken, so idle intervals leave empty files.
package fileroll
