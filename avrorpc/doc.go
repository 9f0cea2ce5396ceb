// Package avrorpc speaks Flume's AvroSourceProtocol (append and appendBatch
// of AvroFlumeEvent records, answered with OK, FAILED or UNKNOWN) over Avro's
// Netty transport: length-prefixed frames tagged with a serial number, an
// Avro IPC handshake on the first exchange of each connection, and optional
// zlib (deflate) compression of the whole stream. It is what the avro source
// and the avro sink share, so that they interoperate with each other and with
// Flume's own avro sink, source and client.
//
// It also encodes and decodes single AvroFlumeEvent values, the record the
// Kafka channel and sink put in Kafka when they keep Flume headers.
//
// Guarantees: a Server answers OK only after its Handler returned OK, so a
// client that commits on OK gets at-least-once delivery across the hop; a
// malformed or oversized frame closes that connection only; the Client
// detects a response for another request by its serial number.
package avrorpc
