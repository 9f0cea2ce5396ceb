// Package file is the durable file channel ("file",
// org.apache.flume.channel.file.FileChannel) with Flume's configuration keys
// and defaults and its own on-disk format.
//
// Layout. dataDirs hold log segments (log-<id>.wal) of records framed as
// length + CRC-32C: PUT (the event), TAKE (a pointer to a PUT), COMMIT and
// ROLLBACK, each with its transaction id. A transaction's records are
// written with its commit record in one append (large transactions write
// theirs early). New segments start at maxFileSize and on every start, and
// go to the data directories in turn. checkpointDir holds the checkpoint: the
// queue's pointers at a log position, written to a temporary file, fsynced
// and renamed, so that a restart replays only the log after it. Every
// directory has an in_use.lock (flock, with the owner's pid) so that two
// agents never share one.
//
// Guarantees.
//   - Durability: with fsyncPerTransaction (the default) Commit returns only
//     after the log is fsynced up to its commit record. Concurrent commits
//     share one fsync (group commit: the first committer to find none under
//     way runs it for everyone appended so far). A committed event survives
//     a crash of the process or of the machine; an uncommitted one never
//     reappears.
//   - Order: FIFO in commit order; a rollback returns taken events to the
//     head in the order they were taken.
//   - Memory: the queue holds 4 bytes per event (its offset, in chunks of
//     one segment each); bodies are read back from disk at take time. A
//     checkpoint is written from a copy-on-write view of the queue and read
//     back as a stream straight into it, so neither costs a copy of the
//     backlog: ten million queued events stay well under 100 MB resident,
//     while queueing and at a restart. A transaction buffers at most a few
//     MB.
//   - Recovery needs no manual step after a crash: the torn tail of the
//     newest segment is cut off at start (logged, and counted in
//     TornTailTruncationCount); so is a zero-filled tail, which a filesystem
//     can leave when the new size reached the disk before the data. A bad record anywhere else is damage, not a
//     crash artefact: Start fails with an error naming the file and offset,
//     and the offline Repair function cuts the log off there. Verify checks
//     the directories without changing them.
//   - Back-pressure: a put waits up to keep-alive for capacity, then fails
//     with an error matching flume.ErrChannelFull; so does a put while a
//     directory has less than minimumRequiredSpace free, or a write that
//     hits a full disk. Nothing committed is lost and the channel resumes by
//     itself once space returns.
//   - After a failed fsync nothing can be assumed about unsynced data, so the
//     channel refuses work (Unhealthy = 1) until it is restarted, which
//     replays the log.
//
// Segments whose events are all taken are deleted after the checkpoint that
// no longer references them.
package file
