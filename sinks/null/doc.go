// Package null is Flume's null sink (type "null",
// org.apache.flume.sink.NullSink): it takes events from its channel in
// batches and discards them. Useful for measuring sources and channels.
//
// Each Process call is one transaction of up to batchSize events; it returns
// Backoff when the batch came up short, as Flume does.
package null
