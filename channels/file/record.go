package file

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"ampsflume/flume"
)

// Record framing in a log segment:
//
//	u32 length of payload | u32 CRC-32C of payload | payload
//	payload = u8 type | u64 transaction id | body
//
// PUT body: uvarint header count, then per header uvarint-length key and
// value, then uvarint-length event body. TAKE body: the u64 pointer of the
// taken PUT record. COMMIT and ROLLBACK bodies are empty.
const (
	recordHeaderSize = 8
	minPayload       = 1 + 8
)

// Record types. Zero is deliberately not a type, so that a run of zero bytes
// (a preallocated or never-written region) can never decode as a record.
const (
	recPut      byte = 1
	recTake     byte = 2
	recCommit   byte = 3
	recRollback byte = 4
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errBadRecord is wrapped by every decoding failure.
var errBadRecord = errors.New("bad record")

// ptr locates a PUT record: segment id in the high 32 bits, byte offset in the
// low 32. maxFileSize is capped below 2^31, so offsets always fit. A pointer
// is all the memory a queued event costs.
type ptr uint64

func mkptr(seg uint32, off int64) ptr { return ptr(uint64(seg)<<32 | uint64(uint32(off))) }
func (p ptr) seg() uint32             { return uint32(p >> 32) }
func (p ptr) off() int64              { return int64(uint32(p)) }
func (p ptr) String() string          { return fmt.Sprintf("%d:%d", p.seg(), p.off()) }

// appendRecordHeader reserves the 8 framing bytes; finishRecord fills them in
// once the payload is appended.
func beginRecord(buf []byte, typ byte, txid uint64) ([]byte, int) {
	start := len(buf)
	buf = append(buf, make([]byte, recordHeaderSize)...)
	buf = append(buf, typ)
	buf = binary.BigEndian.AppendUint64(buf, txid)
	return buf, start
}

func finishRecord(buf []byte, start int) []byte {
	payload := buf[start+recordHeaderSize:]
	binary.BigEndian.PutUint32(buf[start:], uint32(len(payload)))
	binary.BigEndian.PutUint32(buf[start+4:], crc32.Checksum(payload, castagnoli))
	return buf
}

func appendPut(buf []byte, txid uint64, e *flume.Event) []byte {
	buf, start := beginRecord(buf, recPut, txid)
	buf = binary.AppendUvarint(buf, uint64(len(e.Headers)))
	if len(e.Headers) == 0 {
		// Skips starting a map iteration, a few percent of a small put.
		buf = binary.AppendUvarint(buf, uint64(len(e.Body)))
		buf = append(buf, e.Body...)
		return finishRecord(buf, start)
	}
	for k, v := range e.Headers {
		buf = binary.AppendUvarint(buf, uint64(len(k)))
		buf = append(buf, k...)
		buf = binary.AppendUvarint(buf, uint64(len(v)))
		buf = append(buf, v...)
	}
	buf = binary.AppendUvarint(buf, uint64(len(e.Body)))
	buf = append(buf, e.Body...)
	return finishRecord(buf, start)
}

func appendTake(buf []byte, txid uint64, p ptr) []byte {
	buf, start := beginRecord(buf, recTake, txid)
	buf = binary.BigEndian.AppendUint64(buf, uint64(p))
	return finishRecord(buf, start)
}

func appendMarker(buf []byte, typ byte, txid uint64) []byte {
	buf, start := beginRecord(buf, typ, txid)
	return finishRecord(buf, start)
}

// record is a decoded record.
type record struct {
	typ   byte
	txid  uint64
	event *flume.Event // PUT
	taken ptr          // TAKE
}

// parseFrame checks the framing at the start of b and returns the payload
// length. It returns errShort when b is too short to hold the record (which
// at the end of a file means a torn write).
func parseFrame(b []byte, maxLen int64) (int, error) {
	if len(b) < recordHeaderSize {
		return 0, errShort
	}
	n := binary.BigEndian.Uint32(b)
	if n < minPayload || int64(n) > maxLen {
		return 0, fmt.Errorf("%w: length %d out of range", errBadRecord, n)
	}
	if len(b) < recordHeaderSize+int(n) {
		return int(n), errShort
	}
	payload := b[recordHeaderSize : recordHeaderSize+int(n)]
	if got, want := crc32.Checksum(payload, castagnoli), binary.BigEndian.Uint32(b[4:]); got != want {
		return int(n), fmt.Errorf("%w: checksum mismatch (stored %08x, computed %08x)", errBadRecord, want, got)
	}
	return int(n), nil
}

var errShort = fmt.Errorf("%w: truncated", errBadRecord)

// decodePayload decodes a payload whose checksum has been verified. With
// wantEvent false a PUT's event is validated but not materialised, which
// replay uses to avoid allocating every body.
func decodePayload(p []byte, wantEvent bool) (record, error) {
	var r record
	if len(p) < minPayload {
		return r, fmt.Errorf("%w: payload of %d bytes", errBadRecord, len(p))
	}
	r.typ = p[0]
	r.txid = binary.BigEndian.Uint64(p[1:9])
	b := p[9:]
	switch r.typ {
	case recPut:
		e, err := decodeEvent(b, wantEvent)
		if err != nil {
			return r, err
		}
		r.event = e
	case recTake:
		if len(b) != 8 {
			return r, fmt.Errorf("%w: take record body of %d bytes", errBadRecord, len(b))
		}
		r.taken = ptr(binary.BigEndian.Uint64(b))
	case recCommit, recRollback:
		if len(b) != 0 {
			return r, fmt.Errorf("%w: marker record with %d body bytes", errBadRecord, len(b))
		}
	default:
		return r, fmt.Errorf("%w: unknown type %d", errBadRecord, r.typ)
	}
	return r, nil
}

func decodeEvent(b []byte, want bool) (*flume.Event, error) {
	str := func() ([]byte, error) {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return nil, fmt.Errorf("%w: bad length in event", errBadRecord)
		}
		s := b[k : k+int(n)]
		b = b[k+int(n):]
		return s, nil
	}
	nh, k := binary.Uvarint(b)
	if k <= 0 || nh > uint64(len(b)) {
		return nil, fmt.Errorf("%w: bad header count", errBadRecord)
	}
	b = b[k:]
	var headers map[string]string
	if want {
		headers = make(map[string]string, nh)
	}
	for range nh {
		key, err := str()
		if err != nil {
			return nil, err
		}
		val, err := str()
		if err != nil {
			return nil, err
		}
		if want {
			headers[string(key)] = string(val)
		}
	}
	body, err := str()
	if err != nil {
		return nil, err
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes after event", errBadRecord, len(b))
	}
	if !want {
		return nil, nil
	}
	if len(body) == 0 {
		body = nil
	} else {
		body = append([]byte(nil), body...)
	}
	return flume.NewEvent(body, headers), nil
}

// decodeRecord decodes one framed record at the start of b, returning the
// record and its total size.
func decodeRecord(b []byte, maxLen int64, wantEvent bool) (record, int, error) {
	n, err := parseFrame(b, maxLen)
	if err != nil {
		return record{}, 0, err
	}
	r, err := decodePayload(b[recordHeaderSize:recordHeaderSize+n], wantEvent)
	return r, recordHeaderSize + n, err
}
