// Package avro is Flume's avro source (type avro,
// org.apache.flume.source.AvroSource): it listens on bind:port for Flume's
// AvroSourceProtocol (the avro sink of another agent, or Flume's avro
// client) and hands every append or appendBatch to its channel processor.
//
// It answers OK only after every required channel committed the events; when
// the processor fails (a full channel, for instance) it answers FAILED and
// counts ChannelWriteFail, so the sending sink rolls back and retries:
// hop-to-hop delivery is at least once. Calls of one connection are handled in
// order; threads bounds how many calls are handled at once.
package avro
