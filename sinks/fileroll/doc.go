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
// Events are written by the line serializers of package serializer (text,
// the default, or header_and_text), through a 64 KiB buffer.
//
// Guarantees: each Process call writes one transaction's batch, flushes it
// (and fsyncs it when sink.fsync is true) and only then commits, so an event
// leaves the channel only once it is in the file (at least in the page cache
// without fsync). When writing, flushing or committing fails, the file is
// truncated back to where the batch began before the transaction is rolled
// back, so the retry does not duplicate a partial batch. Flume leaves those
// events in the file; this sink does not. As in Flume, the file is opened
// before events are taken, so idle intervals leave empty files.
//
// Exactly-once output (sink.dedupe.header, off by default): the named header
// holds each event's AMPS bookmark (an AMPS source with exactlyOnce = true
// sets it). The sink then keeps, in the file .ampsflume-dedupe of
// sink.directory, the highest bookmark sequence written per publisher
// together with the current output file and its length, and skips events at
// or below it (EventDuplicateSkippedCount; events without a bookmark are
// written and counted in EventNoBookmarkCount). Per batch: write, flush,
// fsync (the key implies sink.fsync), save the record (temporary file,
// fsync, rename, directory fsync), commit. A new file is recorded, empty,
// before it is written to. At start the file the record names is cut back
// to the recorded length. So after a crash anywhere the output holds exactly
// the recorded events, and redelivered ones (from the channel, or from the
// source's bookmark replay) are skipped; package sinks/dedupe walks through
// every crash point. A failed batch whose bytes cannot be cut out of the
// file is retried on the same file rather than abandoning it; a commit that
// fails after the record was saved leaves the batch in the file, and its
// redelivery is skipped. Two deduplicating sinks must not share a
// directory.
package fileroll
