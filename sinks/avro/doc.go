// Package avro is Flume's avro sink (type avro, org.apache.flume.sink.AvroSink):
// it sends each channel transaction's events (up to batch-size) to an avro
// source with one appendBatch call of Flume's AvroSourceProtocol, and commits
// the transaction only when the source answers OK. A FAILED answer, a
// timeout or a broken connection rolls the transaction back and returns an
// error, so the agent backs off and the same events are sent again: delivery
// is at least once, and a batch whose OK was lost in transit is delivered
// twice.
package avro
