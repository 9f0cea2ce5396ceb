package avrorpc

import (
	"bytes"
	"errors"
	"io"

	"github.com/hamba/avro/v2"
)

// newReader returns an Avro reader over b with the package's allocation
// limits.
func newReader(b []byte) *avro.Reader {
	return avro.NewReader(nil, 0, avro.WithReaderConfig(api)).Reset(b)
}

// atEnd reports whether r has consumed all of its input.
func atEnd(r *avro.Reader) bool {
	if r.Error != nil {
		return false
	}
	r.Peek()
	if errors.Is(r.Error, io.EOF) {
		r.Error = nil
		return true
	}
	return false
}

// encoder builds one message payload in memory.
type encoder struct {
	buf bytes.Buffer
	w   *avro.Writer
}

func newEncoder() *encoder {
	e := &encoder{}
	e.w = avro.NewWriter(&e.buf, 4096, avro.WithWriterConfig(api))
	return e
}

// bytes flushes the writer and returns the payload.
func (e *encoder) bytes() ([]byte, error) {
	if err := e.w.Flush(); err != nil {
		return nil, err
	}
	if e.w.Error != nil {
		return nil, e.w.Error
	}
	return e.buf.Bytes(), nil
}
