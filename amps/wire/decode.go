package wire

import (
	"encoding/binary"
	"math/bits"
	"strconv"
	"unicode/utf8"
	"unsafe"
)

// ParseHeader parses the JSON header object at the start of b (skipping leading
// whitespace) into h (which it Resets first), accepting every alias of every field
// and ignoring unknown keys; it returns the number of bytes consumed.
//
// The parser is a single forward scan. Keys are matched without allocating;
// only string values that are kept are copied out of b, and a value equal to
// the one the same field of h held before the call is not copied again: a
// reader that parses every frame into one Header allocates nothing for the
// fields that repeat from message to message (command, topic, sub_id, ...).
func ParseHeader(b []byte, h *Header) (n int, err error) {
	return parseHeader(b, h, nil)
}

func parseHeader(b []byte, h *Header, a *Arena) (n int, err error) {
	prev := *h
	h.Reset()
	return parseFields(b, h, &prev, a)
}

// parseFields parses the header at the start of b into the fields of h it
// names (others are left as they are), taking string values equal to
// those in prev from prev, and storing the new ones in prev.
//
// It is on the path of every frame, on both ends of a connection. The
// headers encoders write (AppendHeader, the server's deliveries) are
// compact: a key is a few plain bytes followed directly by ':', a value
// by ',' or '}'. Those cases are taken inline with few live variables;
// anything else (spaces, escapes, literals) goes through the general
// scan, with the same result and the same errors (parseFieldsRef in the
// tests is the plain definition).
func parseFields(b []byte, h, prev *Header, a *Arena) (n int, err error) {
	i := 0
	if len(b) == 0 || b[0] != '{' {
		i = skipSpace(b, 0)
		if i >= len(b) || b[i] != '{' {
			return 0, frameErr("header does not start with '{'")
		}
	}
	i++
	if i < len(b) && isSpace(b[i]) {
		i = skipSpace(b, i)
	}
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return 0, frameErr("header key is not a string")
		}
		// Keys are a few bytes long: a byte loop ends sooner than the
		// word-wise scan.
		ks := i + 1
		j := ks
		for j < len(b) && b[j] != '"' && b[j] != '\\' {
			j++
		}
		var key []byte
		if j < len(b) && b[j] == '"' {
			key = b[ks:j]
			i = j + 1
		} else {
			ks, ke, esc, next, ok := scanString(b, i)
			if !ok {
				return 0, frameErr("unterminated header key")
			}
			if esc {
				key = unescape(nil, b[ks:ke])
			} else {
				key = b[ks:ke]
			}
			i = next
		}
		if i < len(b) && b[i] == ':' {
			i++
		} else {
			i = skipSpace(b, i)
			if i >= len(b) || b[i] != ':' {
				return 0, frameErr("missing ':' after header key")
			}
			i++
		}
		if i < len(b) && isSpace(b[i]) {
			i = skipSpace(b, i)
		}
		if i >= len(b) {
			return 0, frameErr("truncated header")
		}
		if b[i] == '"' {
			vs := i + 1
			var ve int
			if vs+8 <= len(b) {
				// Most values end within their first word.
				x := binary.LittleEndian.Uint64(b[vs : vs+8])
				if m := hasByte(x, '"') | hasByte(x, '\\'); m != 0 {
					ve = vs + bits.TrailingZeros64(m)>>3
				} else {
					ve = plainEnd(b, vs+8)
				}
			} else {
				ve = plainEnd(b, vs)
			}
			if ve < len(b) && b[ve] == '"' {
				if dst, old := commonField(h, prev, key); dst != nil {
					// The same as set, without the call.
					if raw := b[vs:ve]; string(raw) != *old {
						*old = valueString(raw, false, a)
					}
					*dst = *old
				} else if err := h.set(prev, key, b[vs:ve], false, a); err != nil {
					return 0, err
				}
				i = ve + 1
			} else {
				vs, ve, e, nx, ok := scanString(b, i)
				if !ok {
					return 0, frameErr("unterminated header value")
				}
				if err := h.set(prev, key, b[vs:ve], e, a); err != nil {
					return 0, err
				}
				i = nx
			}
		} else {
			nx, err := h.setLiteral(prev, b, i, key, a)
			if err != nil {
				return 0, err
			}
			i = nx
		}
		if i < len(b) && isSpace(b[i]) {
			i = skipSpace(b, i)
		}
		if i >= len(b) {
			return 0, frameErr("truncated header")
		}
		switch b[i] {
		case ',':
			i++
			if i < len(b) && isSpace(b[i]) {
				i = skipSpace(b, i)
			}
		case '}':
			return i + 1, nil
		default:
			return 0, frameErr("expected ',' or '}' in header")
		}
	}
}

// commonField returns the fields of h and prev that key names when it is
// one of the canonical keys nearly every frame carries, nil otherwise.
func commonField(h, prev *Header, key []byte) (dst, old *string) {
	switch len(key) {
	case 1:
		switch key[0] {
		case 'c':
			return &h.Command, &prev.Command
		case 't':
			return &h.Topic, &prev.Topic
		}
	case 2:
		switch {
		case key[0] == 't' && key[1] == 's':
			return &h.Timestamp, &prev.Timestamp
		case key[0] == 'b' && key[1] == 'm':
			return &h.Bookmark, &prev.Bookmark
		}
	case 3:
		if string(key) == "cid" {
			return &h.CommandID, &prev.CommandID
		}
	case 4:
		if string(key) == "sids" {
			return &h.SubIDs, &prev.SubIDs
		}
	case 6:
		if string(key) == "sub_id" {
			return &h.SubID, &prev.SubID
		}
	}
	return nil, nil
}

// setLiteral parses the unquoted value at b[i] (a number, true, false or
// null) and stores it under key; it returns the index after it.
func (h *Header) setLiteral(prev *Header, b []byte, i int, key []byte, a *Arena) (int, error) {
	c := b[i]
	if !(c == '-' || (c >= '0' && c <= '9') || c == 't' || c == 'f' || c == 'n') {
		return 0, frameErr("bad header value for " + strconv.Quote(string(key)))
	}
	s := i
	for i < len(b) && isLiteralByte(b[i]) {
		i++
	}
	raw := b[s:i]
	switch string(raw) {
	case "null":
		return i, nil
	case "true", "false":
	default:
		if !isNumber(raw) {
			return 0, frameErr("bad header value for " + strconv.Quote(string(key)))
		}
	}
	return i, h.set(prev, key, raw, false, a)
}

// ParseMessage splits a frame body into h and the payload (a sub-slice of frame).
func ParseMessage(frame []byte, h *Header) (payload []byte, err error) {
	n, err := ParseHeader(frame, h)
	if err != nil {
		return nil, err
	}
	return frame[n:], nil
}

// ParseMessage is ParseMessage with the header's new strings carved from a
// (see Arena).
func (a *Arena) ParseMessage(frame []byte, h *Header) (payload []byte, err error) {
	n, err := parseHeader(frame, h, a)
	if err != nil {
		return nil, err
	}
	return frame[n:], nil
}

// ParseInto parses frame's header into h and returns the payload. Unlike
// ParseMessage it does not clear h first: pass a zero Header (a fresh
// Message's, say), so that the frame is parsed without copying a whole
// Header around. cache holds the values of earlier frames: a value equal
// to the one there is not copied again, and new values are stored there.
// cache belongs to the reader; h may be handed out after the call.
func (a *Arena) ParseInto(frame []byte, h, cache *Header) (payload []byte, err error) {
	n, err := parseFields(frame, h, cache, a)
	if err != nil {
		return nil, err
	}
	return frame[n:], nil
}

// Arena hands out the strings of parsed headers carved from shared blocks
// instead of one allocation each: a reader whose headers carry a value
// that changes with every frame (a timestamp, a command id, a bookmark)
// then allocates once per block rather than once per frame. A block stays
// alive while any string carved from it does, so a long-lived string holds
// at most arenaBlock bytes. An Arena is not safe for concurrent use; the
// zero Arena is ready to use.
type Arena struct {
	buf []byte
}

const (
	arenaBlock = 4 << 10
	// Longer values get an allocation of their own.
	arenaShared = 256
)

// String returns b as a string, carved from the arena.
func (a *Arena) String(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > arenaShared {
		return string(b)
	}
	if cap(a.buf)-len(a.buf) < len(b) {
		a.buf = make([]byte, 0, arenaBlock)
	}
	off := len(a.buf)
	a.buf = append(a.buf, b...)
	// The bytes are never written again: the block is only appended to,
	// and this range is already filled.
	return unsafe.String(&a.buf[off], len(b))
}

// ForEachRecord walks the records of a sow frame's payload (the bytes after the sow header).
// The Header passed to fn is reused between records; data aliases payload.
func ForEachRecord(payload []byte, fn func(h *Header, data []byte) error) error {
	var h Header
	i := 0
	for {
		i = skipSpace(payload, i)
		if i >= len(payload) {
			return nil
		}
		n, err := ParseHeader(payload[i:], &h)
		if err != nil {
			return err
		}
		i += n
		if !h.HasLength {
			return frameErr("sow record header without l")
		}
		if h.Length < 0 || h.Length > len(payload)-i {
			return frameErr("sow record length " + strconv.Itoa(h.Length) + " exceeds frame")
		}
		data := payload[i : i+h.Length : i+h.Length]
		i += h.Length
		if err := fn(&h, data); err != nil {
			return err
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// isSpace reports JSON whitespace; most bytes are above ' ', which one
// comparison rules out.
func isSpace(c byte) bool { return c <= ' ' && (c == ' ' || c == '\t' || c == '\n' || c == '\r') }

// plainEnd returns the index of the first '"' or '\\' in b at or after
// start, or len(b) when there is none; eight bytes at a time, as
// scanString.
func plainEnd(b []byte, j int) int {
	for ; j+8 <= len(b); j += 8 {
		x := binary.LittleEndian.Uint64(b[j : j+8])
		if m := hasByte(x, '"') | hasByte(x, '\\'); m != 0 {
			return j + bits.TrailingZeros64(m)>>3
		}
	}
	for j < len(b) && b[j] != '"' && b[j] != '\\' {
		j++
	}
	return j
}

func isLiteralByte(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '+' || c == '.'
}

func isNumber(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	digits := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
		digits++
	}
	if digits == 0 {
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
			d++
		}
		if d == 0 {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
			d++
		}
		if d == 0 {
			return false
		}
	}
	return i == len(b)
}

// scanString scans the JSON string starting at b[i] == '"'. It returns the
// bounds of its contents, whether they contain escapes, and the index after
// the closing quote.
//
// Header strings are scanned eight bytes at a time: every frame's header is
// a dozen or more of them, and a byte loop was the parser's largest cost.
func scanString(b []byte, i int) (start, end int, escaped bool, next int, ok bool) {
	start = i + 1
	j := start
	for {
		for j+8 <= len(b) {
			x := binary.LittleEndian.Uint64(b[j:])
			if m := hasByte(x, '"') | hasByte(x, '\\'); m != 0 {
				j += bits.TrailingZeros64(m) >> 3
				break
			}
			j += 8
		}
		for ; j < len(b); j++ {
			if c := b[j]; c == '"' || c == '\\' {
				break
			}
		}
		if j >= len(b) {
			return 0, 0, false, 0, false
		}
		if b[j] == '"' {
			return start, j, escaped, j + 1, true
		}
		escaped = true
		j += 2
	}
}

const (
	swarOnes = 0x0101010101010101
	swarHigh = 0x8080808080808080
)

// hasByte returns a word whose lowest set bit is the high bit of the first
// byte of x (in memory order) equal to c, or zero when there is none. Bits
// above that byte may be set spuriously; only the lowest is meaningful.
func hasByte(x uint64, c byte) uint64 {
	v := x ^ (swarOnes * uint64(c))
	return (v - swarOnes) &^ v & swarHigh
}

// unescape decodes JSON escapes. Like the C-family clients it is lenient:
// a backslash before any other character yields that character, and a
// malformed \u escape is kept literally.
func unescape(dst, s []byte) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			dst = append(dst, c)
			continue
		}
		i++
		switch s[i] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, ok := hex4(s, i+1)
			if !ok {
				dst = append(dst, '\\', 'u')
				continue
			}
			i += 4
			if utf16IsHighSurrogate(r) && i+6 < len(s) && s[i+1] == '\\' && s[i+2] == 'u' {
				if r2, ok := hex4(s, i+3); ok && r2 >= 0xDC00 && r2 <= 0xDFFF {
					r = 0x10000 + (r-0xD800)<<10 + (r2 - 0xDC00)
					i += 6
				}
			}
			dst = utf8.AppendRune(dst, r)
		default:
			dst = append(dst, s[i])
		}
	}
	return dst
}

func utf16IsHighSurrogate(r rune) bool { return r >= 0xD800 && r <= 0xDBFF }

func hex4(s []byte, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range s[i : i+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return r, true
}

func valueString(raw []byte, escaped bool, a *Arena) string {
	if escaped {
		return string(unescape(make([]byte, 0, len(raw)), raw))
	}
	if a != nil {
		return a.String(raw)
	}
	return string(raw)
}

func parseIntValue(key, raw []byte, escaped bool) (int, error) {
	if escaped {
		raw = unescape(nil, raw)
	}
	v, ok := atoi(raw)
	if !ok {
		return 0, frameErr("bad number for " + strconv.Quote(string(key)))
	}
	return v, nil
}

// atoi parses a decimal integer without allocating. A fractional part of
// zeros (as some encoders write integers, e.g. 10.0) is accepted.
func atoi(b []byte) (int, bool) {
	neg := false
	i := 0
	if i < len(b) && (b[i] == '-' || b[i] == '+') {
		neg = b[i] == '-'
		i++
	}
	if i >= len(b) {
		return 0, false
	}
	var v int64
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		if v > (1<<62)/10 {
			return 0, false
		}
		v = v*10 + int64(b[i]-'0')
	}
	if i < len(b) && b[i] == '.' {
		for i++; i < len(b) && b[i] == '0'; i++ {
		}
	}
	if i != len(b) {
		return 0, false
	}
	if neg {
		v = -v
	}
	return int(v), true
}

func atou(b []byte) (uint64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (^uint64(0)-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, true
}

// set stores one header field; prev holds the fields' earlier values, kept
// when unchanged, and is updated with the new value. The switch on string(key) and the comparisons with prev
// compile to comparisons without allocating.
func (h *Header) set(prev *Header, key, raw []byte, escaped bool, a *Arena) error {
	str := func(dst, old *string) {
		if escaped || string(raw) != *old {
			*old = valueString(raw, escaped, a)
		}
		*dst = *old
	}
	// The canonical keys every frame carries are matched with a few byte
	// comparisons before the switch over every alias.
	switch len(key) {
	case 1:
		switch key[0] {
		case 'c':
			str(&h.Command, &prev.Command)
			return nil
		case 't':
			str(&h.Topic, &prev.Topic)
			return nil
		}
	case 2:
		switch {
		case key[0] == 't' && key[1] == 's':
			str(&h.Timestamp, &prev.Timestamp)
			return nil
		case key[0] == 'b' && key[1] == 'm':
			str(&h.Bookmark, &prev.Bookmark)
			return nil
		}
	case 3:
		if string(key) == "cid" {
			str(&h.CommandID, &prev.CommandID)
			return nil
		}
	case 4:
		if string(key) == "sids" {
			str(&h.SubIDs, &prev.SubIDs)
			return nil
		}
	case 6:
		if string(key) == "sub_id" {
			str(&h.SubID, &prev.SubID)
			return nil
		}
	}
	var err error
	switch string(key) {
	case "c", "cmd", "command":
		str(&h.Command, &prev.Command)
	case "cid", "cmd_id", "command_id":
		str(&h.CommandID, &prev.CommandID)
	case "t", "topic":
		str(&h.Topic, &prev.Topic)
	case "sub_id", "subid", "SubId":
		str(&h.SubID, &prev.SubID)
	case "sids", "sub_ids":
		str(&h.SubIDs, &prev.SubIDs)
	case "query_id", "qid", "QueryId":
		str(&h.QueryID, &prev.QueryID)
	case "a", "ack", "ack_type", "AckTyp":
		str(&h.AckType, &prev.AckType)
	case "status":
		str(&h.Status, &prev.Status)
	case "reason":
		str(&h.Reason, &prev.Reason)
	case "bm", "bookmark":
		str(&h.Bookmark, &prev.Bookmark)
	case "ts", "timestamp":
		str(&h.Timestamp, &prev.Timestamp)
	case "k", "sow_key", "SowKey":
		str(&h.SowKey, &prev.SowKey)
	case "sow_keys", "SowKeys":
		str(&h.SowKeys, &prev.SowKeys)
	case "x", "correlation_id", "CorrelationId":
		str(&h.CorrelationID, &prev.CorrelationID)
	case "filter", "f":
		str(&h.Filter, &prev.Filter)
	case "o", "opts", "options":
		str(&h.Options, &prev.Options)
	case "orderby", "order_by", "OrderBy":
		str(&h.OrderBy, &prev.OrderBy)
	case "client_name", "ClientName":
		str(&h.ClientName, &prev.ClientName)
	case "user_id", "UserId":
		str(&h.UserID, &prev.UserID)
	case "pw", "auth_key", "password":
		str(&h.Password, &prev.Password)
	case "version", "Version":
		str(&h.Version, &prev.Version)
	case "mt", "message_type", "MessageType":
		str(&h.MessageType, &prev.MessageType)
	case "lp", "lease_period", "LeasePeriod":
		str(&h.LeasePeriod, &prev.LeasePeriod)
	case "gseq", "group_seq_num", "GroupSequenceNumber":
		str(&h.GroupSeq, &prev.GroupSeq)
	case "e", "expiration", "Expiration":
		str(&h.Expiration, &prev.Expiration)
	case "heartbeat", "Heartbeat":
		str(&h.Heartbeat, &prev.Heartbeat)
	case "s", "seq", "Seq", "seq_id":
		r := raw
		if escaped {
			r = unescape(nil, raw)
		}
		v, ok := atou(r)
		if !ok {
			return frameErr("bad sequence number " + strconv.Quote(string(raw)))
		}
		h.Seq, h.HasSeq = v, true
	case "bs", "batch_size", "BatchSize":
		h.BatchSize, err = parseIntValue(key, raw, escaped)
	case "top_n", "TopN":
		h.TopN, err = parseIntValue(key, raw, escaped)
	case "l", "msg_len", "MessageLength":
		h.Length, err = parseIntValue(key, raw, escaped)
		h.HasLength = err == nil
	case "matches", "Matches":
		h.Matches, err = parseIntValue(key, raw, escaped)
		h.HasStats = true
	case "topic_matches", "TopicMatches":
		h.TopicMatches, err = parseIntValue(key, raw, escaped)
		h.HasStats = true
	case "records_inserted", "RecordsInserted":
		h.RecordsInserted, err = parseIntValue(key, raw, escaped)
		h.HasStats = true
	case "records_updated", "RecordsUpdated":
		h.RecordsUpdated, err = parseIntValue(key, raw, escaped)
		h.HasStats = true
	case "records_deleted", "RecordsDeleted":
		h.RecordsDeleted, err = parseIntValue(key, raw, escaped)
		h.HasStats = true
	case "records_returned", "RecordsReturned":
		h.RecordsReturned, err = parseIntValue(key, raw, escaped)
		h.HasStats = true
	}
	return err
}
