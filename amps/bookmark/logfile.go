package bookmark

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// The LoggedStore file is the magic followed by records:
//
//	u32 little-endian body length | u32 little-endian CRC-32C of body | body
//	body = kind (b, d or p) | u16 little-endian len(subID) | subID |
//	       u64 little-endian publisher | u64 little-endian sequence
//	     | r | u16 little-endian len(subID) | subID |
//	       u16 little-endian len(range) | range text, as Range.String gives it
//
// The r record (a subscription's bookmark range) came later than the
// others. Files without one are laid out exactly as before, so a file
// written by an older version loads unchanged, and an older version loads
// a newer file as long as no range was recorded in it (otherwise it stops
// at the unknown kind and reports the file as corrupt). Replaying an r
// record resets its subscription (see subscription.setRange), so the
// records after it rebuild the state of that range only.
//
// A crash can tear only the final record (appends are sequential), so a
// short or mis-checksummed record at the very end is cut off on recovery;
// anything wrong before the end means the file was damaged and is reported.
const (
	logMagic     = "AMPSBKM1"
	recHeader    = 8
	minBody      = 1 + 2 + 16
	minRangeBody = 1 + 2 + 2
	maxSubIDLen  = 1<<16 - 1
	maxRangeLen  = 1<<16 - 1
	maxBody      = minRangeBody + maxSubIDLen + maxRangeLen
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// ErrCorrupt is matched by errors about a damaged log file.
var ErrCorrupt = errors.New("bookmark log corrupt")

type record struct {
	kind  byte
	subID string
	bm    Bookmark // b, d and p records
	spec  string   // r records: the range; at most maxRangeLen bytes
}

func appendRecord(dst []byte, r record) []byte {
	n := minBody + len(r.subID)
	if r.kind == kindRange {
		n = minRangeBody + len(r.subID) + len(r.spec)
	}
	start := len(dst)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(n))
	dst = binary.LittleEndian.AppendUint32(dst, 0)
	dst = append(dst, r.kind)
	dst = binary.LittleEndian.AppendUint16(dst, uint16(len(r.subID)))
	dst = append(dst, r.subID...)
	if r.kind == kindRange {
		dst = binary.LittleEndian.AppendUint16(dst, uint16(len(r.spec)))
		dst = append(dst, r.spec...)
	} else {
		dst = binary.LittleEndian.AppendUint64(dst, r.bm.Publisher)
		dst = binary.LittleEndian.AppendUint64(dst, r.bm.Seq)
	}
	binary.LittleEndian.PutUint32(dst[start+4:], crc32.Checksum(dst[start+recHeader:], crcTable))
	return dst
}

// readLog parses a whole log file. It returns the records and the length of
// the valid prefix; good < len(data) with a nil error means a torn tail that
// the caller should truncate.
func readLog(data []byte) (recs []record, good int, err error) {
	if len(data) < len(logMagic) {
		if bytes.HasPrefix([]byte(logMagic), data) {
			return nil, 0, nil // torn while the file was being created
		}
		return nil, 0, fmt.Errorf("%w: not a bookmark log (bad magic)", ErrCorrupt)
	}
	if string(data[:len(logMagic)]) != logMagic {
		return nil, 0, fmt.Errorf("%w: not a bookmark log (bad magic)", ErrCorrupt)
	}
	off := len(logMagic)
	for off < len(data) {
		rest := data[off:]
		if len(rest) < recHeader {
			return recs, off, nil
		}
		n := int(binary.LittleEndian.Uint32(rest))
		if n < minRangeBody || n > maxBody {
			if allZero(rest) {
				// Space allocated by the file system but never written.
				return recs, off, nil
			}
			return recs, off, fmt.Errorf("%w: record at offset %d has impossible length %d", ErrCorrupt, off, n)
		}
		if len(rest) < recHeader+n {
			return recs, off, nil
		}
		body := rest[recHeader : recHeader+n]
		if crc32.Checksum(body, crcTable) != binary.LittleEndian.Uint32(rest[4:]) {
			if len(rest) == recHeader+n {
				return recs, off, nil
			}
			return recs, off, fmt.Errorf("%w: record at offset %d fails its checksum", ErrCorrupt, off)
		}
		r, err := decodeBody(body)
		if err != nil {
			return recs, off, fmt.Errorf("%w: record at offset %d: %v", ErrCorrupt, off, err)
		}
		recs = append(recs, r)
		off += recHeader + n
	}
	return recs, off, nil
}

func decodeBody(b []byte) (record, error) {
	kind := b[0]
	sl := int(binary.LittleEndian.Uint16(b[1:]))
	switch kind {
	case kindReceived, kindDiscarded, kindPersisted:
	case kindRange:
		if len(b) < minRangeBody+sl {
			return record{}, fmt.Errorf("subscription id length %d does not fit record length %d", sl, len(b))
		}
		rl := int(binary.LittleEndian.Uint16(b[3+sl:]))
		if len(b) != minRangeBody+sl+rl {
			return record{}, fmt.Errorf("range length %d does not match record length %d", rl, len(b))
		}
		r := record{kind: kind, subID: string(b[3 : 3+sl]), spec: string(b[5+sl:])}
		if _, err := ParseRange(r.spec); err != nil {
			return record{}, err
		}
		return r, nil
	default:
		return record{}, fmt.Errorf("unknown kind %q", kind)
	}
	if len(b) != minBody+sl {
		return record{}, fmt.Errorf("subscription id length %d does not match record length %d", sl, len(b))
	}
	r := record{kind: kind, subID: string(b[3 : 3+sl])}
	r.bm.Publisher = binary.LittleEndian.Uint64(b[3+sl:])
	r.bm.Seq = binary.LittleEndian.Uint64(b[11+sl:])
	if r.bm.Publisher == 0 {
		return record{}, errors.New("publisher 0")
	}
	return r, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
