package wire

import (
	"encoding/binary"
	"strconv"
)

// AppendHeader appends h as a flat JSON object using only canonical short keys
// (c, cid, t, sub_id, sids, query_id, a, status, reason, bm, ts, k, x, l, s, bs, lp, mt,
// version, client_name, user_id, pw, opts, gseq, top_n, matches, topic_matches,
// records_inserted/updated/deleted/returned, plus filter, sow_keys, e as inputs to a server),
// omitting empty fields; `s` is an unquoted number and never the last key.
//
// `s` is written right after `c` because the JavaScript client extracts it
// with a pattern that expects a following comma; it can only end the object
// when it is the sole field. OrderBy is written when set, which only a client
// does (a server never sets it on what it sends).
func AppendHeader(dst []byte, h *Header) []byte {
	dst = append(dst, '{')
	first := true
	str := func(key, v string) {
		if v == "" {
			return
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(dst, '"')
		dst = append(dst, key...)
		dst = append(dst, '"', ':')
		dst = appendQuoted(dst, v)
	}
	num := func(key string, v int64) {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(dst, '"')
		dst = append(dst, key...)
		dst = append(dst, '"', ':')
		dst = strconv.AppendInt(dst, v, 10)
	}
	str("c", h.Command)
	if h.HasSeq {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(dst, `"s":`...)
		dst = strconv.AppendUint(dst, h.Seq, 10)
	}
	str("cid", h.CommandID)
	str("t", h.Topic)
	str("sub_id", h.SubID)
	str("sids", h.SubIDs)
	str("query_id", h.QueryID)
	str("a", h.AckType)
	str("status", h.Status)
	str("reason", h.Reason)
	str("bm", h.Bookmark)
	str("ts", h.Timestamp)
	str("k", h.SowKey)
	str("x", h.CorrelationID)
	if h.HasLength {
		num("l", int64(h.Length))
	}
	if h.BatchSize != 0 {
		num("bs", int64(h.BatchSize))
	}
	str("lp", h.LeasePeriod)
	str("mt", h.MessageType)
	str("version", h.Version)
	str("client_name", h.ClientName)
	str("user_id", h.UserID)
	str("pw", h.Password)
	str("opts", h.Options)
	str("gseq", h.GroupSeq)
	if h.TopN != 0 {
		num("top_n", int64(h.TopN))
	}
	if h.HasStats {
		num("matches", int64(h.Matches))
		num("topic_matches", int64(h.TopicMatches))
		num("records_inserted", int64(h.RecordsInserted))
		num("records_updated", int64(h.RecordsUpdated))
		num("records_deleted", int64(h.RecordsDeleted))
		num("records_returned", int64(h.RecordsReturned))
	}
	str("filter", h.Filter)
	str("sow_keys", h.SowKeys)
	str("orderby", h.OrderBy)
	str("e", h.Expiration)
	return append(dst, '}')
}

const hexDigits = "0123456789abcdef"

// AppendQuoted appends v as a JSON string value, escaped as AppendHeader
// escapes header values (for encoders that write header fields themselves).
func AppendQuoted(dst []byte, v string) []byte { return appendQuoted(dst, v) }

// appendQuoted writes v as a JSON string. Only `"`, `\` and control
// characters are escaped, which is what every AMPS client parser handles.
func appendQuoted(dst []byte, v string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, v[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	dst = append(dst, v[start:]...)
	return append(dst, '"')
}

// AppendFrame appends a complete frame: 4-byte big-endian length, header, payload.
func AppendFrame(dst []byte, h *Header, payload []byte) []byte {
	off := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	dst = AppendHeader(dst, h)
	dst = append(dst, payload...)
	binary.BigEndian.PutUint32(dst[off:], uint32(len(dst)-off-4))
	return dst
}

// AppendSOWRecord appends one record (header carrying l = len(data), then data) to a
// sow frame body under construction; the caller frames the whole. h is not modified.
func AppendSOWRecord(dst []byte, h *Header, data []byte) []byte {
	rh := *h
	rh.Length = len(data)
	rh.HasLength = true
	dst = AppendHeader(dst, &rh)
	return append(dst, data...)
}
