// Package logger is Flume's logger sink (type "logger",
// org.apache.flume.sink.LoggerSink): it takes one event per transaction and
// logs it at INFO through log/slog, in Flume's format
//
//	Event: { headers:{k=v, ...} body: 68 65 6C 6C 6F ... hello }
//
// where the body part is a hex and printable-ASCII dump of at most
// maxBytesToLog bytes (16 by default). Headers are printed sorted by key.
// It is for debugging: one event per transaction is slow by design.
package logger
