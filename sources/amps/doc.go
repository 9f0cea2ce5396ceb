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
//   - Stop first stops buffering, then tries to commit what is buffered
//     while the connection is still up; what it cannot commit is left
//     undiscarded (or, from a queue, unacknowledged) for redelivery.
//   - Events always have a header map; eventHeaders adds AMPS fields to it.
//
// Message queues: subscribing (command subscribe) to an AMPS queue, each
// message arrives leased, with a lease period and a bookmark. The source
// acknowledges a queue message only after every required channel committed
// the batch that carries it, at the point where it discards bookmarks: one
// sow_delete naming the batch's bookmarks, sent without waiting (the reader
// may be held up by a full buffer). A failed commit acknowledges nothing;
// the batch is retried as any other. Delivery is at least once: messages
// not acknowledged when the connection ends (a stop with a batch the
// channels refuse, a crash, a failover) go back to the queue and come
// again, possibly to another consumer; an acknowledgement sent on a
// connection other than the one holding the lease is void on the server,
// and the message comes again (a duplicate, never a loss). An ack that
// cannot be sent is counted in QueueAckFailCount and logged, not retried.
// Stop acknowledges what it commits and waits (at most 5 s) for the server
// to process the acknowledgements before disconnecting.
//
// max_backlog, how many unacknowledged messages the server leases to the
// subscription at once, is maxBatch unless options name it: the server's
// default of 1 would make every commit a single-event transaction. It is
// added for subscribe without bookmarkLog only (a queue refuses bookmark
// subscriptions and sow_and_subscribe); other topics ignore it. A
// max_backlog above maxBuffers × maxBatch is a configuration error: the
// extra leased messages could only wait in the socket, unseen and
// unavailable to the queue's other consumers.
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
