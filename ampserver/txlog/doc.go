// Package txlog is the transaction log of the AMPS-compatible server: an
// append-only journal of the publishes, merged delta publishes and SOW
// deletes of the journaled topics, from which bookmark subscriptions are
// replayed and SOW topics are rebuilt after a restart.
//
// The journal is a sequence of segment files in one directory, each named
// after the sequence number of its first record. Every record is framed by
// its length and a CRC32C of its body and carries a sequence number that is
// one more than the previous record's, across segments and across restarts.
// A record's bookmark is "<publisher>|<sequence>|", where the publisher is a
// stable hash of the publishing client's name.
//
// Guarantees:
//   - Append assigns sequence numbers in call order; a Reader returns
//     records in sequence order, including records appended after it was
//     created, once they are below the limit it is given.
//   - Records reach the disk in batches (group commit): a background loop
//     fsyncs every FlushInterval, and Sync forces one. OnDurable is told the
//     highest sequence number that is on disk, in increasing order.
//   - Open recovers from a crash: a torn or corrupt tail of the last segment
//     is truncated; damage anywhere else is reported as an error.
//   - Memory does not grow with the segments' size: Open and each Reader
//     read a segment through a buffer of about 1 MiB (larger only for a
//     record larger than that); a Log keeps a sparse index of each segment
//     (one entry per 256 records).
//   - Log is safe for concurrent use; a Reader belongs to one goroutine.
package txlog
