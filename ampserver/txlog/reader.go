package txlog

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// readChunk is the read size of a Reader.
const readChunk = 1 << 20

// Reader iterates over records in sequence order. It is not safe for
// concurrent use; the Record it returns is valid until the next call.
type Reader struct {
	l    *Log
	seg  int
	f    *os.File
	off  int64 // file offset of buf[0]
	buf  []byte
	pos  int
	next uint64 // sequence number of the next record to return
	rec  Record
	err  error
}

// NewReader returns a reader positioned at the record with sequence number
// from (or the first one after it).
func (l *Log) NewReader(from uint64) *Reader {
	if first := l.FirstSeq(); from < first {
		from = first
	}
	seg, off := l.locate(from)
	return &Reader{l: l, seg: seg, off: off, next: from}
}

// Next returns the next record whose sequence number is below limit, or
// io.EOF when there is none (yet).
func (r *Reader) Next(limit uint64) (*Record, error) {
	for {
		if r.err != nil {
			return nil, r.err
		}
		if r.next >= limit {
			return nil, io.EOF
		}
		n, err := decodeFrame(r.buf[r.pos:], &r.rec)
		if err == nil {
			r.pos += n
			if r.rec.Seq < r.next {
				continue // before the start position
			}
			if r.rec.Seq != r.next {
				r.err = fmt.Errorf("txlog: sequence %d where %d was expected", r.rec.Seq, r.next)
				return nil, r.err
			}
			r.next++
			return &r.rec, nil
		}
		if !errors.Is(err, errShort) {
			r.err = fmt.Errorf("txlog: reading sequence %d: %w", r.next, err)
			return nil, r.err
		}
		more, err := r.fill()
		if err != nil {
			r.err = err
			return nil, err
		}
		if !more {
			return nil, io.EOF
		}
	}
}

// fill reads more of the journal; it reports false at the end of what has
// been appended.
func (r *Reader) fill() (bool, error) {
	for retried := false; ; {
		sg, active, ok := r.l.segmentInfo(r.seg)
		if !ok {
			return false, nil
		}
		end := r.off + int64(len(r.buf))
		if end < sg.size {
			if r.f == nil {
				f, err := os.Open(sg.path)
				if err != nil {
					return false, fmt.Errorf("txlog: %w", err)
				}
				r.f = f
			}
			// Keep the partial frame, read after it.
			rest := copy(r.buf, r.buf[r.pos:])
			r.off += int64(r.pos)
			r.buf, r.pos = r.buf[:rest], 0
			want := min(max(int64(readChunk), r.pendingFrame()), sg.size-end)
			if cap(r.buf)-len(r.buf) < int(want) {
				nb := make([]byte, len(r.buf), len(r.buf)+int(want))
				copy(nb, r.buf)
				r.buf = nb
			}
			n, err := r.f.ReadAt(r.buf[len(r.buf):len(r.buf)+int(want)], end)
			r.buf = r.buf[:len(r.buf)+n]
			if err != nil && !(errors.Is(err, io.EOF) && n > 0) {
				return false, fmt.Errorf("txlog: read %s: %w", sg.path, err)
			}
			return true, nil
		}
		if !active {
			if r.pos < len(r.buf) {
				return false, fmt.Errorf("txlog: %s: %w at the end of the segment", sg.path, errCorrupt)
			}
			r.closeFile()
			r.seg++
			r.off, r.buf, r.pos = 0, r.buf[:0], 0
			continue
		}
		if retried {
			return false, nil
		}
		// Records may still be buffered by the appender.
		if err := r.l.ensureWritten(); err != nil {
			return false, err
		}
		retried = true
	}
}

// pendingFrame is the size of the incomplete frame at the read position.
func (r *Reader) pendingFrame() int64 {
	b := r.buf[r.pos:]
	if len(b) < frameHeader {
		return 0
	}
	return int64(frameHeader) + int64(uint32(b[0])|uint32(b[1])<<8|uint32(b[2])<<16|uint32(b[3])<<24) - int64(len(b))
}

func (r *Reader) closeFile() {
	if r.f != nil {
		r.f.Close()
		r.f = nil
	}
}

// Close releases the reader's file.
func (r *Reader) Close() error {
	r.closeFile()
	return nil
}

// NextSeq is the sequence number of the next record the reader returns.
func (r *Reader) NextSeq() uint64 { return r.next }

// Get returns a copy of the record with sequence number seq.
func (l *Log) Get(seq uint64) (*Record, bool, error) {
	if seq < l.FirstSeq() || seq >= l.NextSeq() {
		return nil, false, nil
	}
	r := l.NewReader(seq)
	defer r.Close()
	rec, err := r.Next(seq + 1)
	if errors.Is(err, io.EOF) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	c := *rec
	c.Data = append([]byte(nil), rec.Data...)
	return &c, true, nil
}
