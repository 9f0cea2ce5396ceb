// Package bookmark holds the client-side bookmark stores of AMPS bookmark
// subscriptions: where a subscription must resume after a reconnect or a
// restart, and which redelivered messages are duplicates.
//
// A bookmark is "publisherId|sequence|" with both parts decimal uint64s. A
// store records, per subscription id, every bookmark received (Log), the ones
// the application has finished with (Discard) and the ones the server says it
// has persisted (Persisted). From that it answers:
//
//   - MostRecent: the point to resume from. Every message received before it
//     (in arrival order) has been discarded, so resuming there never loses a
//     message that was not discarded; messages after it may be delivered
//     again (at-least-once). It is a comma list of one bookmark per publisher,
//     or EPOCH ("0") when nothing has been discarded.
//   - IsDiscarded: whether a message is a duplicate, judged by the highest
//     sequence seen per publisher. Messages recovered from a log but never
//     discarded are not duplicates: they must be delivered again.
//
// MemoryStore keeps this in memory. LoggedStore also appends every change to a
// file, recovers from it on open (tolerating a torn final record, refusing
// corruption anywhere else) and compacts it with Prune. Both are safe for
// concurrent use.
package bookmark
