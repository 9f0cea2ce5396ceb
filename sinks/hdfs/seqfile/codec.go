package seqfile

import (
	"compress/gzip"
	"compress/zlib"
	"io"
	"strings"
)

// Codec is a Hadoop compression codec: its class name, written in the
// header, and the stream format each compressed value or block buffer is
// written in (one complete stream each).
type Codec struct {
	// Class is the Hadoop class name, e.g. org.apache.hadoop.io.compress.GzipCodec.
	Class     string
	newWriter func(w io.Writer) resetWriter
	newReader func(r io.Reader) (io.Reader, error)
}

// resetWriter is a compressor that can start a new stream on another writer.
type resetWriter interface {
	io.WriteCloser
	Reset(w io.Writer)
}

// The codecs written and read. Hadoop's DefaultCodec is a zlib stream
// (RFC 1950); GzipCodec a gzip member (RFC 1952).
var (
	DefaultCodec = &Codec{
		Class:     "org.apache.hadoop.io.compress.DefaultCodec",
		newWriter: func(w io.Writer) resetWriter { return zlib.NewWriter(w) },
		newReader: func(r io.Reader) (io.Reader, error) { return zlib.NewReader(r) },
	}
	GzipCodec = &Codec{
		Class:     "org.apache.hadoop.io.compress.GzipCodec",
		newWriter: func(w io.Writer) resetWriter { return gzip.NewWriter(w) },
		newReader: func(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) },
	}
)

// LookupCodec finds a codec by its Hadoop class name. DeflateCodec, a
// subclass of DefaultCodec with the same format, is accepted too.
func LookupCodec(class string) (*Codec, bool) {
	switch strings.TrimSpace(class) {
	case DefaultCodec.Class, "org.apache.hadoop.io.compress.DeflateCodec":
		return DefaultCodec, true
	case GzipCodec.Class:
		return GzipCodec, true
	}
	return nil, false
}
