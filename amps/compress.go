package amps

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"

	"github.com/klauspost/compress/flate"
)

// CompressionZlib is the value of the URI option compression that AMPS
// clients use for a compressed connection: the whole byte stream, both
// ways, is raw deflate (no zlib header or trailer) from the first byte
// after the TCP (or TLS) connect, flushed at the end of every write.
const CompressionZlib = "zlib"

// compressLevel trades ratio for CPU. AMPS frames are small and repetitive
// (the same header keys in every frame), so the fastest level already finds
// most of the redundancy while costing the least per message.
const compressLevel = flate.BestSpeed

// ErrCompression wraps the errors of a compressed connection that point at
// a server which does not speak compression on that port.
var ErrCompression = errors.New("amps: compression=zlib")

// deflateConn is a net.Conn whose bytes travel as one raw-deflate stream in
// each direction. Each Write is compressed and flushed as a whole: the
// connection's writer hands it one batch of coalesced frames at a time, so
// the stream is flushed once per batch, not once per frame. Reads inflate;
// Read and Write may run concurrently (one goroutine each), as on net.Conn.
type deflateConn struct {
	net.Conn
	zw *flate.Writer
	zr io.ReadCloser
	in countingReader
}

// countingReader counts the compressed bytes read, so that a stream that
// ends before the server sent anything can be told apart from one that
// broke later.
type countingReader struct {
	r *bufio.Reader
	n atomic.Int64 // also read by the writer: see deflateConn.Write
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func (c *countingReader) ReadByte() (byte, error) {
	b, err := c.r.ReadByte()
	if err == nil {
		c.n.Add(1)
	}
	return b, err
}

func newDeflateConn(nc net.Conn) (*deflateConn, error) {
	dc := &deflateConn{Conn: nc}
	zw, err := flate.NewWriter(nc, compressLevel)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCompression, err)
	}
	dc.zw = zw
	// The inflater reads byte by byte through ReadByte; giving it a
	// buffered reader that already has one keeps it from adding its own.
	dc.in.r = bufio.NewReaderSize(nc, 32<<10)
	dc.zr = flate.NewReader(&dc.in)
	return dc, nil
}

func (dc *deflateConn) Write(p []byte) (int, error) {
	n, err := dc.zw.Write(p)
	if err == nil {
		err = dc.zw.Flush()
	}
	if err != nil && dc.in.n.Load() == 0 && !isTimeout(err) {
		// A server that does not expect compression may hang up while the
		// logon is still being written: the write fails (broken pipe,
		// reset) before anything was read, which points at the same cause
		// as the read side's case below.
		return n, fmt.Errorf("%w: the server closed the connection before sending anything (%v): does its transport accept compressed connections?", ErrCompression, err)
	}
	return n, err
}

func (dc *deflateConn) Read(p []byte) (int, error) {
	n, err := dc.zr.Read(p)
	if err == nil || n > 0 {
		return n, err
	}
	var ce flate.CorruptInputError
	switch {
	case errors.As(err, &ce):
		return 0, fmt.Errorf("%w: the server's data is not a deflate stream (%v): does its transport accept compressed connections?", ErrCompression, err)
	case dc.in.n.Load() == 0 && !isTimeout(err):
		// A server that does not expect compression sees garbage and
		// hangs up before answering anything. The cause is not wrapped:
		// this is not the orderly end of a session (io.EOF).
		return 0, fmt.Errorf("%w: the server closed the connection before sending anything (%v): does its transport accept compressed connections?", ErrCompression, err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		// Every write is flushed, so a peer that hangs up leaves the
		// stream between blocks: the end of the connection, not a
		// truncated message.
		return 0, io.EOF
	}
	return 0, err
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
