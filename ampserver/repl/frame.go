package repl

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// Version is the link protocol version sent in Hello. Version 2 adds
// Heartbeat frames in both directions; a receiver still accepts version 1
// (MinVersion) and then neither sends nor expects heartbeats.
const Version = 2

// MinVersion is the oldest version a receiver accepts.
const MinVersion = 1

// VersionHeartbeat is the first version whose links heartbeat.
const VersionHeartbeat = 2

// MaxFrame bounds a frame; a longer length is treated as corruption.
const MaxFrame = 256 << 20

// Type is a frame type.
type Type byte

// Frame types.
const (
	THello   Type = 'H'
	TWelcome Type = 'W'
	TRefused Type = 'X'
	TRecord  Type = 'R'
	TAck     Type = 'A'
	// THeartbeat (both directions, version 2 and later) says the sender
	// is alive and how often it beats when otherwise idle.
	THeartbeat Type = 'B'
)

// Hello opens a link (sender → receiver).
type Hello struct {
	Version  uint64
	Instance string // the sender's instance name (AMPSConfig Name)
	User     string
	Password string
}

// Welcome accepts a link (receiver → sender).
type Welcome struct {
	Instance string // the receiver's instance name
	// Resume is the last origin sequence number the receiver has persisted
	// from this sender; the sender continues after it.
	Resume uint64
}

// Record is one journal record of the sender (sender → receiver).
type Record struct {
	Seq       uint64 // the sender's journal sequence number
	Timestamp int64  // Unix microseconds
	Command   byte   // txlog command
	Topic     string
	Client    string // publishing client name
	ClientSeq uint64
	SowKey    string
	Data      []byte
}

// ErrMalformed is wrapped by every decoding error.
var ErrMalformed = errors.New("repl: malformed frame")

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// begin starts a frame of type t in b; end fills in the length.
func begin(b []byte, t Type) []byte { return append(b, 0, 0, 0, 0, byte(t)) }

func end(b []byte, start int) []byte {
	binary.LittleEndian.PutUint32(b[start:], uint32(len(b)-start-4))
	return b
}

// AppendHello appends a Hello frame to b.
func AppendHello(b []byte, h *Hello) []byte {
	st := len(b)
	b = begin(b, THello)
	b = binary.AppendUvarint(b, h.Version)
	b = appendString(b, h.Instance)
	b = appendString(b, h.User)
	b = appendString(b, h.Password)
	return end(b, st)
}

// AppendWelcome appends a Welcome frame to b.
func AppendWelcome(b []byte, w *Welcome) []byte {
	st := len(b)
	b = begin(b, TWelcome)
	b = appendString(b, w.Instance)
	b = binary.AppendUvarint(b, w.Resume)
	return end(b, st)
}

// AppendRefused appends a Refused frame to b.
func AppendRefused(b []byte, reason string) []byte {
	st := len(b)
	b = begin(b, TRefused)
	b = appendString(b, reason)
	return end(b, st)
}

// AppendRecord appends a Record frame to b.
func AppendRecord(b []byte, r *Record) []byte {
	st := len(b)
	b = begin(b, TRecord)
	b = binary.AppendUvarint(b, r.Seq)
	b = binary.AppendVarint(b, r.Timestamp)
	b = append(b, r.Command)
	b = appendString(b, r.Topic)
	b = appendString(b, r.Client)
	b = binary.AppendUvarint(b, r.ClientSeq)
	b = appendString(b, r.SowKey)
	b = append(b, r.Data...)
	return end(b, st)
}

// AppendAck appends an Ack frame to b.
func AppendAck(b []byte, seq uint64) []byte {
	st := len(b)
	b = begin(b, TAck)
	b = binary.AppendUvarint(b, seq)
	return end(b, st)
}

// AppendHeartbeat appends a Heartbeat frame to b: interval is how often
// its sender beats on an idle link, so the peer knows how long a silence
// means the sender is gone.
func AppendHeartbeat(b []byte, interval time.Duration) []byte {
	st := len(b)
	b = begin(b, THeartbeat)
	b = binary.AppendUvarint(b, uint64(max(interval, 0)))
	return end(b, st)
}

// MaxHeartbeat bounds the interval a Heartbeat may announce.
const MaxHeartbeat = 24 * time.Hour

// Reader reads frames from a stream.
type Reader struct {
	r   *bufio.Reader
	buf []byte
}

// NewReader returns a frame reader over r.
func NewReader(r io.Reader) *Reader { return &Reader{r: bufio.NewReaderSize(r, 64<<10)} }

// Buffered is the number of bytes read from the stream and not yet decoded.
func (r *Reader) Buffered() int { return r.r.Buffered() }

// Next returns the next frame's type and body; the body is valid until the
// next call.
func (r *Reader) Next() (Type, []byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r.r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.LittleEndian.Uint32(hdr[:])
	if n == 0 || n > MaxFrame {
		return 0, nil, fmt.Errorf("%w: length %d", ErrMalformed, n)
	}
	if cap(r.buf) < int(n) {
		r.buf = make([]byte, n)
	}
	b := r.buf[:n]
	if _, err := io.ReadFull(r.r, b); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return 0, nil, err
	}
	return Type(b[0]), b[1:], nil
}

// decoder reads fields from a frame body, remembering the first error.
type decoder struct {
	b   []byte
	bad bool
}

func (d *decoder) uvarint() uint64 {
	v, k := binary.Uvarint(d.b)
	if k <= 0 {
		d.bad = true
		d.b = nil
		return 0
	}
	d.b = d.b[k:]
	return v
}

func (d *decoder) varint() int64 {
	v, k := binary.Varint(d.b)
	if k <= 0 {
		d.bad = true
		d.b = nil
		return 0
	}
	d.b = d.b[k:]
	return v
}

func (d *decoder) byte1() byte {
	if len(d.b) < 1 {
		d.bad = true
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) str() string {
	n := d.uvarint()
	if d.bad || n > uint64(len(d.b)) {
		d.bad = true
		d.b = nil
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) done(what string, rest bool) error {
	if d.bad || (!rest && len(d.b) != 0) {
		return fmt.Errorf("%w: %s", ErrMalformed, what)
	}
	return nil
}

// DecodeHello decodes a Hello body.
func DecodeHello(b []byte) (Hello, error) {
	d := decoder{b: b}
	h := Hello{Version: d.uvarint(), Instance: d.str(), User: d.str(), Password: d.str()}
	return h, d.done("hello", false)
}

// DecodeWelcome decodes a Welcome body.
func DecodeWelcome(b []byte) (Welcome, error) {
	d := decoder{b: b}
	w := Welcome{Instance: d.str(), Resume: d.uvarint()}
	return w, d.done("welcome", false)
}

// DecodeRefused decodes a Refused body.
func DecodeRefused(b []byte) (string, error) {
	d := decoder{b: b}
	s := d.str()
	return s, d.done("refused", false)
}

// DecodeRecord decodes a Record body; r.Data aliases b.
func DecodeRecord(b []byte, r *Record) error {
	d := decoder{b: b}
	r.Seq = d.uvarint()
	r.Timestamp = d.varint()
	r.Command = d.byte1()
	r.Topic = d.str()
	r.Client = d.str()
	r.ClientSeq = d.uvarint()
	r.SowKey = d.str()
	if err := d.done("record", true); err != nil {
		return err
	}
	if r.Seq == 0 {
		return fmt.Errorf("%w: record without a sequence number", ErrMalformed)
	}
	r.Data = d.b
	return nil
}

// DecodeHeartbeat decodes a Heartbeat body: the sender's interval.
func DecodeHeartbeat(b []byte) (time.Duration, error) {
	d := decoder{b: b}
	v := d.uvarint()
	if err := d.done("heartbeat", false); err != nil {
		return 0, err
	}
	if v == 0 || v > uint64(MaxHeartbeat) {
		return 0, fmt.Errorf("%w: heartbeat interval %d", ErrMalformed, v)
	}
	return time.Duration(v), nil
}

// DecodeAck decodes an Ack body.
func DecodeAck(b []byte) (uint64, error) {
	d := decoder{b: b}
	v := d.uvarint()
	return v, d.done("ack", false)
}
