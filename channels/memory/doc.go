// Package memory is Flume's memory channel (type "memory",
// org.apache.flume.channel.MemoryChannel): a bounded in-process FIFO queue of
// events.
//
// Guarantees:
//   - Ordering is FIFO. A rollback returns the events a transaction took to
//     the head of the queue in the order they were taken.
//   - capacity bounds the queued events plus those taken by open
//     transactions: a taken event keeps its place until its transaction
//     commits, so a rollback can always put it back.
//   - A commit that needs more room than is free waits up to keep-alive for
//     sinks to make room, then fails with an error matching
//     flume.ErrChannelFull; nothing of the failed transaction is kept.
//     byteCapacity bounds the bodies (not the headers, as in Flume) in
//     100-byte slots, with the same waiting rule.
//   - A Take on an empty queue waits up to keep-alive for a commit and then
//     returns (nil, nil). Waiters sleep on a signal; nothing spins.
//   - Nothing is durable: events are lost when the process dies. Stop keeps
//     the queue, and the channel implements flume.Reconfigurable, so queued
//     events survive a configuration reload while the capacities change.
//
// Puts are staged in the transaction and enter the queue under one lock at
// commit; each take locks once. The lists a transaction stages its puts and
// takes in are handed back to the channel when it ends and reused, and its
// attempt counts reach the channel's counter then too: a steady flow of
// batches allocates only the transactions themselves.
package memory
