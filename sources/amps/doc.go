// Package amps is the AMPS Flume source (type
// com.crankuptheamps.flume.AMPSFlumeSource, alias "amps"): it subscribes to
// an AMPS topic and delivers every message as a Flume event.
//
// It is a pollable source. Messages go into a bounded buffer of at most
// maxBuffers × maxBatch messages: the default feed hands each one to the
// source on the AMPS client's reader goroutine (lent, so the source copies
// the body it keeps), and a feed that only offers Next is read by a goroutine
// of the source. When the buffer is full the hand-over waits, which stops
// the client reading the socket and pushes back through TCP to the server
// (the client keeps heartbeating on its own). Each poll hands at most
// maxBatch events, in arrival order, to the channel processor.
//
// Guarantees:
//   - A batch that fails to commit is retried, whole and in the same order,
//     on every following poll until it commits; nothing is dropped.
//   - With bookmarkLog set, a message's bookmark is discarded only after
//     every required channel committed it, so after a crash or restart the
//     subscription resumes at the first message not committed
//     (at-least-once). Duplicates redelivered after a reconnect are dropped.
//   - Stop first tries to commit what is buffered; what it cannot commit is
//     left undiscarded for redelivery.
//   - Events always have a header map; eventHeaders adds AMPS fields to it.
//
// An event's body is the source's copy of the message payload (a feed that
// only offers Next hands over its own copy instead). Copies are carved from
// 16 KiB blocks, so an event held long after the events that shared its
// block were drained (for example the few an interceptor lets through into
// a backed-up memory channel) keeps the whole block in memory, not just its
// own bytes; a memory channel's byteCapacity counts the bodies only.
//
// Exactly-once mode (exactlyOnce = true, with bookmarkLog, subscriptionId
// and command subscribe) puts every message's bookmark in the header named
// by exactlyOnce.header (ampsBookmark by default), whatever eventHeaders
// says. The source itself stays at-least-once: after a crash it redelivers
// what it committed to the channels but had not yet discarded. A file_roll
// sink with sink.dedupe.header (or an hdfs sink with hdfs.dedupe.header)
// naming the same header turns that into exactly-once output: it records,
// atomically with the file it writes, the highest bookmark sequence written
// per publisher and skips what comes again (see package sinks/dedupe for the
// crash analysis). The channel between them must be durable (file, jdbc,
// kafka): a memory channel loses what it holds in a crash, and no header can
// bring that back.
package amps
