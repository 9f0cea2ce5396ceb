// Package seqfile reads and writes Hadoop SequenceFiles (format version 6),
// the default output of Flume's HDFS sink, so that files written here are
// read by Hadoop's SequenceFile.Reader, `hadoop fs -text`, Hive and Spark.
//
// A file is a header (the magic "SEQ" and version 6, the key and value
// class names, the compression flags and codec class, metadata and a random
// 16-byte sync marker) followed by records. Keys and values are handed over
// already serialized in Hadoop's Writable encodings; writable.go has the
// encoders and decoders for the types Flume writes (LongWritable,
// BytesWritable, Text).
//
// Three layouts are written, as in Hadoop:
//   - None: each record is its length, its key's length, the key and the
//     value; a sync escape (-1) and the sync marker are written before a
//     record once SyncInterval bytes have passed since the last one.
//   - Record: the same, with each value compressed on its own.
//   - Block: records are gathered and written as blocks (a sync marker, the
//     record count, then the key lengths, keys, value lengths and values,
//     each compressed separately), when BlockSize bytes are gathered or on
//     Sync.
//
// Codecs are Hadoop's DefaultCodec (zlib) and GzipCodec (gzip), the ones the
// standard library implements.
//
// Guarantees: after Writer.Sync returns, every appended record has been
// handed to the underlying writer and the bytes written so far end on a
// record boundary (a sync marker, or the end of a block), so a file cut at
// that length is a valid SequenceFile. A Writer is not safe for concurrent
// use. The Reader checks every sync marker against the header's, refuses
// anything malformed with an error naming the offset, and never allocates
// more than the input holds (or, for compressed data, than its
// decompression limit).
package seqfile
