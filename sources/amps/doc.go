// Package amps is the AMPS Flume source (type
// com.crankuptheamps.flume.AMPSFlumeSource, alias "amps"): it subscribes to
// an AMPS topic and delivers every message as a Flume event.
//
// It is a pollable source. A reader goroutine pulls messages from the client
// into a bounded buffer of at most maxBuffers × maxBatch messages; when the
// buffer is full it stops pulling, which pushes back through the client to
// the server (the client keeps heartbeating on its own). Each poll hands at
// most maxBatch events, in arrival order, to the channel processor.
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
package amps
