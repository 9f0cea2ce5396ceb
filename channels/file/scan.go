package file

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// scanResult is what reading a segment found.
type scanResult struct {
	size    int64 // file size
	good    int64 // offset just past the last good record (or the header)
	records int
	// bad is the problem at offset good, nil when the segment is clean to
	// its end.
	bad error
	// torn is set when no valid record follows the bad spot: the tail of
	// an interrupted write, safe to cut off. Otherwise the corruption is in
	// the middle of the log.
	torn bool
}

// scanSegment validates seg's header and decodes its records from offset
// from (0 or the header size means the first record), calling fn for each.
// An error returned by fn stops the scan and is returned as is.
func scanSegment(f file, id uint32, from, maxLen int64, wantEvents bool, fn func(off int64, r record) error) (scanResult, error) {
	var res scanResult
	size, err := f.Size()
	if err != nil {
		return res, err
	}
	res.size = size
	hdr := make([]byte, segHeaderSize)
	n, err := f.ReadAt(hdr, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return res, err
	}
	if herr := checkSegHeader(hdr[:n], id); herr != nil {
		res.bad = fmt.Errorf("segment header: %w", herr)
		res.torn = size < segHeaderSize
		return res, nil
	}
	from = max(from, segHeaderSize)
	if from > size {
		res.good = size
		res.bad = fmt.Errorf("%w: position %d is beyond the end of the segment (%d bytes)", errBadRecord, from, size)
		return res, nil
	}
	res.good = from
	br := bufio.NewReaderSize(io.NewSectionReader(f, from, size-from), 1<<20)
	var buf []byte
	off := from
	for off < size {
		need := recordHeaderSize
		if int64(need) > size-off {
			res.bad = fmt.Errorf("%w: %d bytes left, less than a record header", errShort, size-off)
			break
		}
		if cap(buf) < need {
			buf = make([]byte, need, 64<<10)
		}
		buf = buf[:need]
		if _, err := io.ReadFull(br, buf); err != nil {
			return res, err
		}
		plen, ferr := parseFrame(buf, maxLen)
		if ferr != nil && !errors.Is(ferr, errShort) {
			res.bad = ferr
			break
		}
		total := int64(recordHeaderSize + plen)
		if total > size-off {
			res.bad = fmt.Errorf("%w: record of %d bytes, %d left in the file", errShort, total, size-off)
			break
		}
		if cap(buf) < int(total) {
			nb := make([]byte, total)
			copy(nb, buf)
			buf = nb
		}
		buf = buf[:total]
		if _, err := io.ReadFull(br, buf[recordHeaderSize:]); err != nil {
			return res, err
		}
		r, _, derr := decodeRecord(buf, maxLen, wantEvents)
		if derr != nil {
			res.bad = derr
			break
		}
		if err := fn(off, r); err != nil {
			return res, err
		}
		off += total
		res.good = off
		res.records++
	}
	if res.bad != nil {
		torn, err := tailIsTorn(f, res.good, size, maxLen)
		if err != nil {
			return res, err
		}
		res.torn = torn
	}
	return res, nil
}

// tailIsTorn reports whether no valid record starts anywhere in
// [from+1, size): then the bad bytes at from are the remains of a write cut
// short, not damage to data that later records were written after.
func tailIsTorn(f file, from, size, maxLen int64) (bool, error) {
	tail := make([]byte, size-from)
	if _, err := f.ReadAt(tail, from); err != nil && !errors.Is(err, io.EOF) {
		return false, err
	}
	for i := 1; i+recordHeaderSize+minPayload <= len(tail); i++ {
		if _, _, err := decodeRecord(tail[i:], maxLen, false); err == nil {
			return false, nil
		}
	}
	return true, nil
}
