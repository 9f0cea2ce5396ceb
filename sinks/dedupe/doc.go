// Package dedupe is the sink half of exactly-once delivery from an AMPS
// bookmark subscription into files. An AMPS source in exactly-once mode puts
// each message's bookmark ("publisherHash|sequence|") in an event header; a
// sink with a dedupe header keeps, per publisher, the highest sequence it has
// written and skips every event at or below it. Sequences of one publisher
// only increase, and the channels between source and sink are FIFO queues
// that lose nothing, so an event at or below the highest written sequence
// can only be a redelivery of one already in the output.
//
// The highest sequences must be exactly as durable as the output they
// describe: ahead of it, a crash loses events (they are skipped when they
// come back but were never written); behind it, a crash duplicates them. So
// a sink keeps a small State next to its output naming the output file and
// its length at the moment the sequences were recorded, and updates it after
// the output is on disk:
//
//  1. write the batch to the output file and fsync it;
//  2. Save the State (highest sequences, output file, its new length):
//     write a temporary file, fsync it, rename it over the state file,
//     fsync the directory;
//  3. commit the channel transaction.
//
// At start the sink Loads the State and cuts its output file back to the
// recorded length. Every crash point then ends in agreement:
//
//   - before or during 1, or between 1 and 2: the file may hold bytes past
//     the recorded length, from a batch whose sequences were not recorded
//     and whose transaction was not committed. They are cut off at start;
//     the channel gives the batch again, and it is written again.
//   - during 2: the rename is atomic, so the old or the new State is in
//     place, never a mix; the old one is the previous case. The temporary
//     file is ignored (and replaced) by the next Save.
//   - between 2 and 3: the State covers the batch but the channel gives it
//     again; every event is at or below the recorded sequences and is
//     skipped, and the transaction commits.
//   - after 3, and while the source has not yet discarded the bookmarks of
//     what the channel holds: the source's subscription resumes before
//     those messages and puts them in the channel again; the sink skips
//     them.
//
// A sink opening a new output file records it (length 0) in the State
// before writing to it, so the file named by the State is always the only
// one that can hold unrecorded bytes.
//
// Guarantees and limits: a State file is a few lines of text ending in a
// CRC-32C of the rest; Load refuses a damaged one rather than guess. The
// sequences are per sink, so exactly-once holds when one deduplicating sink
// drains a channel (a replicating selector giving each such sink its own
// channel is fine; a load-balancing sink group is not). Events without a
// parseable bookmark header are written unconditionally and counted.
package dedupe
