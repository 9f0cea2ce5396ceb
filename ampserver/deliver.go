package ampserver

import (
	"encoding/binary"
	"regexp"

	"ampsflume/amps/wire"
	"ampsflume/filter"
)

// Deliveries are the server's hot path: one publish becomes a frame per
// matching subscription. Their header is written here directly rather than
// through wire.AppendHeader, with the same bytes as a result: a delivery
// header has a fixed shape (c, t, sub_id, sids, bm, ts, k, x, in
// AppendHeader's order), and only the subscription ids differ between the
// subscribers of one publish, so the rest is encoded once per publish
// (deliveryEnc) and each subscription keeps its ids encoded (subscription.idPart).

// appendIDPart returns the encoded `,"sub_id":…,"sids":…` of a subscription.
func appendIDPart(dst []byte, id string) []byte {
	if id == "" {
		return dst
	}
	dst = append(dst, `,"sub_id":`...)
	dst = wire.AppendQuoted(dst, id)
	dst = append(dst, `,"sids":`...)
	return wire.AppendQuoted(dst, id)
}

// appendDeliveryHead appends the header fields before the subscription ids.
func appendDeliveryHead(dst []byte, d *Delivery) []byte {
	dst = append(dst, `{"c":"p"`...)
	if d.Topic != "" {
		dst = append(dst, `,"t":`...)
		dst = wire.AppendQuoted(dst, d.Topic)
	}
	return dst
}

// appendDeliveryTail appends the header fields after the subscription ids
// and closes the header.
func appendDeliveryTail(dst []byte, d *Delivery) []byte {
	if d.Bookmark != "" {
		dst = appendField(dst, `,"bm":`, d.Bookmark)
	}
	if d.Timestamp != "" {
		dst = appendField(dst, `,"ts":`, d.Timestamp)
	}
	return appendDeliveryEnd(dst, d)
}

// appendDeliveryEnd appends the header fields after the timestamp and
// closes the header.
func appendDeliveryEnd(dst []byte, d *Delivery) []byte {
	if d.SowKey != "" {
		dst = appendField(dst, `,"k":`, d.SowKey)
	}
	if d.CorrelationID != "" {
		dst = appendField(dst, `,"x":`, d.CorrelationID)
	}
	return append(dst, '}')
}

// appendField appends key and v quoted as wire.AppendQuoted quotes it.
// Header values seldom need escapes (a timestamp never does), so v is
// checked first and then copied in one piece.
func appendField(dst []byte, key, v string) []byte {
	dst = append(dst, key...)
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c == '"' || c == '\\' {
			return wire.AppendQuoted(dst, v)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, v...)
	return append(dst, '"')
}

// appendDeliveryFrame appends the whole frame of d for the subscription
// whose encoded ids are idPart: what wire.AppendFrame writes for
// deliveryHeader.
func appendDeliveryFrame(dst []byte, d *Delivery, idPart []byte) []byte {
	off := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	dst = appendDeliveryHead(dst, d)
	dst = append(dst, idPart...)
	dst = appendDeliveryTail(dst, d)
	dst = append(dst, d.Data...)
	binary.BigEndian.PutUint32(dst[off:], uint32(len(dst)-off-4))
	return dst
}

// deliveryEnc is a delivery's header without the subscription ids, encoded
// once for all the subscribers of one publish; buf is reused from publish
// to publish (it belongs to the topic and is used under its lock).
type deliveryEnc struct {
	buf   []byte
	head  int    // buf[:head] goes before the ids, buf[head:] after
	topic string // the topic buf[:head] was encoded for
	data  []byte
	// The tail buf[head:] holds these values and, at buf[tsAt:], a
	// timestamp of tsLen bytes (tsAt 0: no valid tail). A publish that
	// differs from the previous one only in its timestamp, the usual case
	// on a topic without a SOW, overwrites those bytes in place.
	bm, k, x    string
	tsAt, tsLen int
}

// reset encodes the header of d, whose timestamp is ts (d.Timestamp is
// not read: a publish makes that string only for the deliveries that may
// keep it). ts is a timestamp as stampCache formats it, which has no
// character that JSON escapes.
func (e *deliveryEnc) reset(d *Delivery, ts []byte) {
	e.data = d.Data
	if e.head == 0 || d.Topic != e.topic {
		e.buf = appendDeliveryHead(e.buf[:0], d)
		e.head, e.topic = len(e.buf), d.Topic
		e.tsAt = 0
	}
	if e.tsAt > 0 && len(ts) == e.tsLen && d.Bookmark == e.bm && d.SowKey == e.k && d.CorrelationID == e.x {
		copy(e.buf[e.tsAt:], ts)
		return
	}
	dst := e.buf[:e.head]
	if d.Bookmark != "" {
		dst = appendField(dst, `,"bm":`, d.Bookmark)
	}
	e.tsAt = 0
	if len(ts) > 0 {
		dst = append(dst, `,"ts":"`...)
		e.tsAt, e.tsLen = len(dst), len(ts)
		dst = append(dst, ts...)
		dst = append(dst, '"')
	}
	e.buf = appendDeliveryEnd(dst, d)
	e.bm, e.k, e.x = d.Bookmark, d.SowKey, d.CorrelationID
}

// frameLen is the length of the frame for a subscription, prefix included.
func (e *deliveryEnc) frameLen(idPart []byte) int {
	return 4 + len(e.buf) + len(idPart) + len(e.data)
}

func (e *deliveryEnc) appendFrame(dst []byte, idPart []byte) []byte {
	off := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	dst = append(dst, e.buf[:e.head]...)
	dst = append(dst, idPart...)
	dst = append(dst, e.buf[e.head:]...)
	dst = append(dst, e.data...)
	binary.BigEndian.PutUint32(dst[off:], uint32(len(dst)-off-4))
	return dst
}

// fieldResult is what topField found.
type fieldResult uint8

const (
	fieldUnknown fieldResult = iota // the scan cannot tell: ask the filter
	fieldAbsent                     // a well-formed object without the field
	fieldFound                      // raw is the field's value
	fieldString                     // raw is the contents of a plain JSON string (no escapes, not empty)
)

// eqFilter is the fast form of a filter `/name = 'literal'`: a top-level
// field compared with a string literal, indexed by a topic's route
// (route.go). Only a plain JSON string (no escapes, not empty) or a
// missing field is decided by the index; anything else (a number, an
// array, an escaped string, a malformed document) is left to the compiled
// filter, so results never differ.
type eqFilter struct {
	name string
	lit  string
}

// topField finds the first top-level field called name in the JSON object
// doc. It gives up (fieldUnknown) on anything it does not fully
// understand: escaped keys, malformed input, a document that is not an
// object.
func topField(doc []byte, name string) ([]byte, fieldResult) {
	i := jsonWS(doc, 0)
	if i >= len(doc) || doc[i] != '{' {
		return nil, fieldUnknown
	}
	i = jsonWS(doc, i+1)
	if i < len(doc) && doc[i] == '}' {
		return nil, fieldAbsent
	}
	for {
		if i >= len(doc) || doc[i] != '"' {
			return nil, fieldUnknown
		}
		ke, esc := jsonString(doc, i)
		if ke < 0 || esc {
			return nil, fieldUnknown
		}
		key := doc[i+1 : ke-1]
		i = jsonWS(doc, ke)
		if i >= len(doc) || doc[i] != ':' {
			return nil, fieldUnknown
		}
		i = jsonWS(doc, i+1)
		ve := jsonValue(doc, i)
		if ve < 0 {
			return nil, fieldUnknown
		}
		if string(key) == name {
			return doc[i:ve], fieldFound
		}
		i = jsonWS(doc, ve)
		if i >= len(doc) {
			return nil, fieldUnknown
		}
		switch doc[i] {
		case ',':
			i = jsonWS(doc, i+1)
		case '}':
			return nil, fieldAbsent
		default:
			return nil, fieldUnknown
		}
	}
}

func jsonWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// jsonString returns the index after the string starting at b[i] == '"'
// (-1 when unterminated) and whether it contains escapes.
func jsonString(b []byte, i int) (int, bool) {
	esc := false
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			esc = true
			j++
		case '"':
			return j + 1, esc
		}
	}
	return -1, esc
}

// jsonValue returns the index after the value starting at b[i], or -1.
// Nested objects and arrays are skipped by counting brackets outside
// strings; their contents are not validated (the value is then only used
// to move on, or handed to the filter).
func jsonValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		e, _ := jsonString(b, i)
		return e
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				e, _ := jsonString(b, j)
				if e < 0 {
					return -1
				}
				j = e - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	}
	j := i
	// Numbers are mostly digits: eight at a time while they last (no digit
	// ends a literal, so the result is the byte loop's).
	for j+8 <= len(b) && allDigits(binary.LittleEndian.Uint64(b[j:])) {
		j += 8
	}
	for j < len(b) && !endsLiteral[b[j]] {
		j++
	}
	if j == i {
		return -1
	}
	return j
}

// allDigits tells whether the eight bytes of x are all ASCII digits: each
// has the high nibble 3, and adding 6 (which cannot carry into the next
// byte then) leaves it 3, which holds for '0' to '9' only.
func allDigits(x uint64) bool {
	const hi, three, six = 0xF0F0F0F0F0F0F0F0, 0x3030303030303030, 0x0606060606060606
	return x&hi == three && (x+six)&hi == three
}

// endsLiteral marks the bytes that end a number, true, false or null: the
// filter package's, so that a malformed literal (`"a"::1`) ends where the
// filter's scan ends it and is handed to the filter.
var endsLiteral = [256]bool{',': true, '}': true, ']': true, ':': true, ' ': true, '\t': true, '\n': true, '\r': true}

// eqForm is the canonical text of a filter eqFilter handles: a top-level
// field, `=`, and a string literal without quotes or escapes in it.
var eqForm = regexp.MustCompile(`^/([A-Za-z_][A-Za-z0-9_]*) = '([^'\\]*)'$`)

// eqFilterOf returns the fast form of m, or nil when m is not an equality
// of one top-level field with a string literal.
func eqFilterOf(m matcher) *eqFilter {
	f, ok := m.(*filter.Filter)
	if !ok {
		return nil
	}
	g := eqForm.FindStringSubmatch(f.String())
	if g == nil {
		return nil
	}
	if paths := f.Paths(); len(paths) != 1 || paths[0].String() != "/"+g[1] {
		return nil
	}
	return &eqFilter{name: g[1], lit: g[2]}
}
