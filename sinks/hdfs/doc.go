// Package hdfs is Flume's HDFS sink (type "hdfs",
// org.apache.flume.sink.hdfs.HDFSEventSink): it writes the events of one
// channel to files in bucketed directories, where the directory
// (hdfs.path) and the file prefix (hdfs.filePrefix) are expanded per event
// from Flume's escapes: %{header}, the time escapes (%Y %m %d %H %M %S %t %s
// %y %b %B %a %A %e %j %k %l %p %c %D %n %I %z), %[localhost], %[IP] and
// %[FQDN]. The path's scheme picks the file system: a plain path or
// file:// (local disk), hdfs://namenode:port (HDFS), s3://bucket (S3,
// through a local spool; see package fsys).
//
// Files are named <dir>/<inUsePrefix><prefix>.<counter><suffix><inUseSuffix>
// while written and renamed to <dir>/<prefix>.<counter><suffix> when
// complete; the counter starts at the bucket's creation time in epoch
// milliseconds. A file is complete when it reaches hdfs.rollCount events or
// hdfs.rollSize body bytes (checked before each append, as in Flume), when
// hdfs.rollInterval has passed since it was opened, when its bucket has been
// idle for hdfs.idleTimeout, when it is the least recently used beyond
// hdfs.maxOpenFiles, or when the sink stops. At start, files an earlier run
// left in use under the literal base of hdfs.path are renamed.
//
// Guarantees: one Process call is one transaction. Its events are
// serialized into memory, then each touched file is written and flushed
// (HDFS hflush), and only then is the transaction committed. If anything
// fails (a missing timestamp header when time escapes need one, a header
// value that would leave the base path, a write, a flush or the commit),
// every touched file is cut back to its committed length and closed, and
// the transaction is rolled back: the retried batch is never half-present.
// Every committed batch ends an Avro block, a compression member, or a
// SequenceFile sync marker or block, so a file cut back this way, or left
// by a crash between batches, is valid.
// A header value can never place a file outside the literal part of
// hdfs.path: absolute values and ".." elements are refused.
//
// Exactly-once output (hdfs.dedupe.header, off by default; local paths
// only, since HDFS and S3 files cannot be fsynced and cut back): the named
// header holds each event's AMPS bookmark (an AMPS source with exactlyOnce =
// true sets it). The sink keeps, in the file .ampsflume-dedupe of the
// literal base directory of hdfs.path, the highest bookmark sequence
// written per publisher (over all buckets) and the length of every in-use
// file, and skips events at or below it (EventDuplicateSkippedCount). Per
// batch: write and flush, fsync every touched file, save the record
// (temporary file, fsync, rename, directory fsync), commit. At start, before
// in-use files are renamed, each one the record lists is cut back to its
// recorded length and each one it does not list (created after the last
// record, so holding nothing recorded) is removed; on the first start in
// this mode an empty record is saved once earlier files are recovered.
// Package sinks/dedupe walks through every crash point. A commit that fails
// after the record was saved leaves the batch in its files, and its
// redelivery is skipped. Known limit: a crash inside the hard-link rename
// of a complete file leaves both names, as without this mode.
//
// hdfs.fileType picks the file format. SequenceFile, Flume's default, writes
// Hadoop SequenceFiles (package seqfile) as Flume's HDFSSequenceFile does:
// one record per event, its key a LongWritable of the timestamp header (the
// sink's clock when there is none), its value the body as a BytesWritable
// (hdfs.writeFormat = Writable, the default) or a Text (Text); with
// hdfs.codeC = gzip or deflate, compressed by block (or by record with
// hdfs.compressionType = RECORD). The serializer is not used. DataStream
// writes what the serializer makes of each event; CompressedStream
// compresses that with hdfs.codeC.
package hdfs
