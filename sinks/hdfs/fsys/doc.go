// Package fsys is the file system seam of the hdfs sink: a small FS
// interface (create a new file, append and flush, cut back, rename, remove,
// walk) with three implementations chosen by the URL scheme of hdfs.path:
// the local disk (file:// or a plain path), HDFS (hdfs://namenode:port, via
// the native Go HDFS client), and S3 (s3://bucket, via the MinIO client).
//
// Names are slash-separated. Local names are operating-system paths; HDFS
// names are absolute paths in the namenode's namespace; S3 names are object
// keys with a leading slash.
//
// Guarantees the sink relies on:
//   - Create never overwrites: it fails with an error matching fs.ErrExist
//     when the name is taken.
//   - After File.Flush returns nil, the bytes written so far are visible to
//     readers of the file (HDFS hflush; a local write is visible at once).
//   - File.Truncate cuts the file back to a length it had before, and the
//     next Write continues from there.
//   - Rename never overwrites an existing file.
//   - S3 objects cannot be appended to, so an S3 "file" is a local spool file
//     while it is written; Rename uploads it under the new key as one
//     complete object and removes the spool file. Walk lists the spool, which
//     is where the files still being written (or left by a crash) are.
package fsys
