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
// Every committed batch ends an Avro block and a compression member, so a
// file cut back this way, or left by a crash between batches, is valid.
// A header value can never place a file outside the literal part of
// hdfs.path: absolute values and ".." elements are refused.
//
// Unlike Flume, Hadoop SequenceFiles are not written: hdfs.fileType must be
// DataStream or CompressedStream.
package hdfs
