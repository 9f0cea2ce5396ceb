package hdfs

import (
	"compress/gzip"
	"compress/zlib"
	"io"

	"github.com/klauspost/compress/zstd"
)

// compressor is a streaming codec whose Close ends one self-contained member
// (a gzip member, a zlib stream, a zstd frame) and whose Reset starts the
// next; the concatenation of members is what the codec's tools read.
type compressor interface {
	io.WriteCloser
	Reset(w io.Writer)
}

type codecInfo struct {
	name, ext string
	make      func(w io.Writer) compressor
}

var codecs = []codecInfo{
	{"gzip", ".gz", func(w io.Writer) compressor { return gzip.NewWriter(w) }},
	{"deflate", ".deflate", func(w io.Writer) compressor { return zlib.NewWriter(w) }},
	{"zstd", ".zst", func(w io.Writer) compressor {
		z, _ := zstd.NewWriter(w, zstd.WithEncoderConcurrency(1)) // fails only on bad options
		return z
	}},
}

// lookupCodec accepts Flume's names and Hadoop's codec class names.
func lookupCodec(name string) (codecInfo, bool) {
	switch name {
	case "gzip", "gzipcodec", "org.apache.hadoop.io.compress.gzipcodec":
		return codecs[0], true
	case "deflate", "default", "defaultcodec", "org.apache.hadoop.io.compress.defaultcodec", "deflatecodec":
		return codecs[1], true
	case "zstd", "zstandard", "zstandardcodec", "org.apache.hadoop.io.compress.zstandardcodec":
		return codecs[2], true
	}
	return codecInfo{}, false
}
