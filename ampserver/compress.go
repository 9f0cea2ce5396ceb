package ampserver

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"

	"github.com/klauspost/compress/flate"

	"ampsflume/amps/wire"
)

// CompressionZlib is the value of a Transport's <Compression> element for
// clients that connect with compression=zlib: the transport then reads and
// writes every connection as one raw-deflate stream in each direction (no
// zlib header), starting with the first byte, and a connection that does
// not compress is refused as malformed. Transports without the element
// refuse compressed clients. Only stream transports (tcp, tcps with the
// amps protocol) take it: a websocket frames messages itself.
const CompressionZlib = "zlib"

// compressLevel is the deflate level of what the server writes: frames
// are small and share their header keys, which the fastest level already
// finds, at the least CPU per message.
const compressLevel = flate.BestSpeed

// deflater compresses a connection's output: each batch of frames the
// writer goroutine takes is compressed and flushed once, so a client sees
// whole batches as soon as they are written. Writer goroutine only.
type deflater struct {
	zw *flate.Writer
}

func newDeflater(w io.Writer) *deflater {
	zw, err := flate.NewWriter(w, compressLevel)
	if err != nil {
		panic(fmt.Sprintf("ampserver: deflate level %d: %v", compressLevel, err)) // a constant level is always valid
	}
	return &deflater{zw: zw}
}

func (d *deflater) writeFrames(frames [][]byte) error {
	for _, f := range frames {
		if _, err := d.zw.Write(f); err != nil {
			return err
		}
	}
	return d.zw.Flush()
}

// inflateReader is the inbound side: it inflates what the connection
// delivers and reports a stream that is not deflate as a malformed frame,
// which ends that connection only.
type inflateReader struct {
	zr io.Reader
}

// newInflateReader inflates r, which must offer ReadByte so that the
// inflater reads it directly rather than through a buffer of its own.
func newInflateReader(r flate.Reader) *inflateReader {
	return &inflateReader{zr: flate.NewReader(r)}
}

func (ir *inflateReader) Read(p []byte) (int, error) {
	n, err := ir.zr.Read(p)
	if err == nil || n > 0 {
		return n, err
	}
	switch e := err.(type) {
	case flate.CorruptInputError:
		return 0, &wire.FrameError{Reason: fmt.Sprintf("compressed stream is not valid deflate (%v): a client that does not compress, on a transport with <Compression>zlib</Compression>?", e)}
	case flate.InternalError:
		return 0, &wire.FrameError{Reason: "compressed stream: " + e.Error()}
	}
	if err == io.ErrUnexpectedEOF {
		// Clients flush every write, so a client that hangs up leaves the
		// stream between blocks: a disconnect, not a torn frame.
		return 0, io.EOF
	}
	return 0, err
}

// sniffUncompressed checks, on a transport without compression, that the
// connection starts like an AMPS frame: a 4-byte length and then the
// header's opening brace. A compressed client's first bytes are deflate
// block headers instead, and without this check the server would read
// them as a frame length and wait for bytes that never come. It waits for
// no byte the frame reader would not wait for: a length the reader refuses
// (zero, or above maxFrame) is left to it.
func sniffUncompressed(br *bufio.Reader, maxFrame int) error {
	b, err := br.Peek(4)
	if err != nil {
		return nil // a short stream ends the session through the reader
	}
	if n := binary.BigEndian.Uint32(b); n == 0 || uint64(n) > uint64(maxFrame) {
		return nil
	}
	if b, err = br.Peek(5); err != nil {
		return nil
	}
	switch b[4] {
	case '{', ' ', '\t', '\r', '\n':
		return nil
	}
	return &wire.FrameError{Reason: "connection does not start with an AMPS frame header: a client using compression=zlib on a transport without <Compression>zlib</Compression>?"}
}

// newCompressedStreamConn is newStreamConn for a transport with
// <Compression>zlib</Compression>: socket, then the inflater, then the
// frame reader's buffer.
func newCompressedStreamConn(nc net.Conn, maxFrame int) *streamConn {
	c := &streamConn{nc: nc, rc: readClock{Conn: nc}, z: newDeflater(nc), maxFrame: maxFrame}
	in := newInflateReader(bufio.NewReaderSize(&c.rc, 32<<10))
	c.br = bufio.NewReaderSize(in, 64<<10)
	c.r = wire.NewReader(c.br, maxFrame)
	return c
}
