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
// Bookmark ranges ("[start:end]", "(start:end)", see Range) are recorded
// with Log(subID, range) before subscribing. MostRecent then returns the
// range with the same end and closing bracket and, once something has been
// discarded, its start moved to the resume point: per publisher the later
// of the original start bookmark and the resume point, resumed after it
// ('('). Nothing discarded, the range is returned as recorded. EPOCH is
// dropped from a resumed start; timestamps and NOW are kept, because on a
// replicating server a list of bookmarks alone replays unlisted publishers
// from their first message, before the original start (Range.resume has
// the full rules). An inclusive range keeps '[' while one of its own start
// bookmarks has not been passed; the messages it then delivers again are
// duplicates to IsDiscarded. Recording a different range for a
// subscription id starts its state afresh. A NOW end is evaluated by the
// server again on every resume.
//
// MemoryStore keeps this in memory. LoggedStore also appends every change to a
// file, recovers from it on open (tolerating a torn final record, refusing
// corruption anywhere else) and compacts it with Prune, which keeps the
// range. Its file format is described in logfile.go; ranges added a record
// kind without changing the older ones, so older files load unchanged. Both are safe for
// concurrent use.
package bookmark
