package txlog

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"strconv"
	"time"
)

// Command is what a record did.
type Command uint8

// Journaled commands.
const (
	Publish      Command = 1
	DeltaPublish Command = 2 // Data is the merged record, not the delta
	SowDelete    Command = 3 // Data is empty; SowKey names the deleted record
)

func (c Command) String() string {
	switch c {
	case Publish:
		return "publish"
	case DeltaPublish:
		return "delta_publish"
	case SowDelete:
		return "sow_delete"
	}
	return "command(" + strconv.Itoa(int(c)) + ")"
}

// Record is one journal entry.
type Record struct {
	Seq        uint64 // assigned by Append
	Publisher  uint64 // PublisherID of ClientName
	Timestamp  int64  // Unix microseconds
	Command    Command
	Topic      string
	ClientName string
	ClientSeq  uint64 // the publish's `s` header, 0 when absent
	SowKey     string
	// Origin names the replication peer the record came from; empty for a
	// record published to this instance. Replicated records are not sent
	// back to other peers.
	Origin string
	Data   []byte
}

// Bookmark formats the record's bookmark.
func (r *Record) Bookmark() string { return FormatBookmark(r.Publisher, r.Seq) }

// Time returns the record's timestamp.
func (r *Record) Time() time.Time { return time.UnixMicro(r.Timestamp) }

// FormatBookmark formats "<publisher>|<seq>|".
func FormatBookmark(publisher, seq uint64) string {
	return string(AppendBookmark(make([]byte, 0, 42), publisher, seq))
}

// AppendBookmark appends the bookmark FormatBookmark returns.
func AppendBookmark(dst []byte, publisher, seq uint64) []byte {
	dst = strconv.AppendUint(dst, publisher, 10)
	dst = append(dst, '|')
	dst = strconv.AppendUint(dst, seq, 10)
	return append(dst, '|')
}

// PublisherID is the stable publisher hash of a client name (64-bit
// FNV-1a); it is never 0, which bookmarks reserve for special values.
func PublisherID(clientName string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(clientName); i++ {
		h ^= uint64(clientName[i])
		h *= 1099511628211
	}
	if h == 0 {
		h = 1
	}
	return h
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Frame layout: body length uint32 LE, CRC32C(body) uint32 LE, body.
// Body: command byte, uvarint seq, publisher uint64 LE, varint timestamp,
// uvarint client seq, then topic, client name and SOW key each as uvarint
// length + bytes, then the data to the end. A record with an Origin sets
// originFlag in the command byte and has the origin as a fourth string.
const frameHeader = 8

// originFlag marks, in the command byte, a record that carries an Origin.
const originFlag = 0x80

// maxBody bounds a record body; larger lengths are corruption.
const maxBody = 1 << 30

func appendRecord(dst []byte, r *Record) []byte {
	start := len(dst)
	cmd := byte(r.Command)
	if r.Origin != "" {
		cmd |= originFlag
	}
	dst = append(dst, 0, 0, 0, 0, 0, 0, 0, 0, cmd)
	dst = binary.AppendUvarint(dst, r.Seq)
	dst = binary.LittleEndian.AppendUint64(dst, r.Publisher)
	dst = binary.AppendVarint(dst, r.Timestamp)
	dst = binary.AppendUvarint(dst, r.ClientSeq)
	for _, s := range [...]string{r.Topic, r.ClientName, r.SowKey} {
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		dst = append(dst, s...)
	}
	if r.Origin != "" {
		dst = binary.AppendUvarint(dst, uint64(len(r.Origin)))
		dst = append(dst, r.Origin...)
	}
	dst = append(dst, r.Data...)
	body := dst[start+frameHeader:]
	binary.LittleEndian.PutUint32(dst[start:], uint32(len(body)))
	binary.LittleEndian.PutUint32(dst[start+4:], crc32.Checksum(body, castagnoli))
	return dst
}

// Errors of the record reader.
var (
	errShort   = errors.New("txlog: incomplete record")
	errCorrupt = errors.New("txlog: corrupt record")
)

// decodeFrame decodes the record at the start of b into r and returns the
// frame's size. errShort means b holds only part of a frame. r.Data and, when
// intern is nil, nothing else aliases b; strings equal to the previous
// record's are reused to spare allocations during replay.
func decodeFrame(b []byte, r *Record) (int, error) {
	if len(b) < frameHeader {
		return 0, errShort
	}
	n := binary.LittleEndian.Uint32(b)
	if n > maxBody || n == 0 {
		return 0, errCorrupt
	}
	if uint64(len(b)-frameHeader) < uint64(n) {
		return 0, errShort
	}
	body := b[frameHeader : frameHeader+int(n)]
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(b[4:]) {
		return 0, errCorrupt
	}
	if err := decodeBody(body, r); err != nil {
		return 0, err
	}
	return frameHeader + int(n), nil
}

func decodeBody(b []byte, r *Record) error {
	if len(b) < 1 {
		return errCorrupt
	}
	hasOrigin := b[0]&originFlag != 0
	r.Command, b = Command(b[0]&^originFlag), b[1:]
	if r.Command < Publish || r.Command > SowDelete {
		return errCorrupt
	}
	var k int
	if r.Seq, k = binary.Uvarint(b); k <= 0 {
		return errCorrupt
	}
	b = b[k:]
	if len(b) < 8 {
		return errCorrupt
	}
	r.Publisher, b = binary.LittleEndian.Uint64(b), b[8:]
	if r.Timestamp, k = binary.Varint(b); k <= 0 {
		return errCorrupt
	}
	b = b[k:]
	if r.ClientSeq, k = binary.Uvarint(b); k <= 0 {
		return errCorrupt
	}
	b = b[k:]
	var ok bool
	if b, ok = readString(b, &r.Topic); !ok {
		return errCorrupt
	}
	if b, ok = readString(b, &r.ClientName); !ok {
		return errCorrupt
	}
	if b, ok = readString(b, &r.SowKey); !ok {
		return errCorrupt
	}
	r.Origin = ""
	if hasOrigin {
		if b, ok = readString(b, &r.Origin); !ok || r.Origin == "" {
			return errCorrupt
		}
	}
	r.Data = b
	return nil
}

// readString reads a length-prefixed string into *dst, keeping *dst when it
// already holds the same text.
func readString(b []byte, dst *string) ([]byte, bool) {
	l, k := binary.Uvarint(b)
	if k <= 0 || l > uint64(len(b)-k) {
		return nil, false
	}
	s := b[k : k+int(l)]
	if string(s) != *dst { // no allocation for the comparison
		*dst = string(s)
	}
	return b[k+int(l):], true
}
