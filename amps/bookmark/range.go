package bookmark

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ErrInvalidRange is matched by errors about text that looks like a range
// ("[" or "(" first) but is not a valid one.
var ErrInvalidRange = errors.New("invalid bookmark range")

// Range is a bounded bookmark subscription, "[start:end]": '[' or '('
// says whether the start itself is delivered, ']' or ')' whether the end
// is. The start is one or more of Epoch, Now, message bookmarks and
// timestamps; the end is one message bookmark, one timestamp or Now.
type Range struct {
	Start     []string
	StartIncl bool
	End       string
	EndIncl   bool
}

// IsRange tells whether a bookmark is meant as a range: it opens with '['
// or '('. Whether it is a valid one is ParseRange's question.
func IsRange(s string) bool {
	s = strings.TrimSpace(s)
	return s != "" && (s[0] == '[' || s[0] == '(')
}

// ParseRange parses a range. Spaces around elements are dropped, so equal
// ranges give equal String results.
func ParseRange(spec string) (Range, error) {
	bad := func(why string) (Range, error) {
		return Range{}, fmt.Errorf("bookmark range %q: %s: %w", spec, why, ErrInvalidRange)
	}
	s := strings.TrimSpace(spec)
	if len(s) < 2 || (s[0] != '[' && s[0] != '(') {
		return bad("must open with '[' or '('")
	}
	var r Range
	switch s[len(s)-1] {
	case ']':
		r.EndIncl = true
	case ')':
	default:
		return bad("must close with ']' or ')'")
	}
	r.StartIncl = s[0] == '['
	start, end, ok := strings.Cut(s[1:len(s)-1], ":")
	if !ok || strings.Contains(end, ":") {
		return bad("needs exactly one ':' between start and end")
	}
	for _, p := range strings.Split(start, ",") {
		p = strings.TrimSpace(p)
		if !isPoint(p) {
			return bad(fmt.Sprintf("start element %q is not EPOCH, NOW, a bookmark or a timestamp", p))
		}
		r.Start = append(r.Start, p)
	}
	r.End = strings.TrimSpace(end)
	switch {
	case strings.Contains(r.End, ","):
		return bad("the end must be one bookmark or timestamp, not a list")
	case r.End == Epoch:
		return bad("the end cannot be EPOCH")
	case !isPoint(r.End):
		return bad(fmt.Sprintf("end %q is not NOW, a bookmark or a timestamp", r.End))
	}
	return r, nil
}

// isPoint tells whether p is one bookmark element: Epoch, Now, a message
// bookmark or a timestamp.
func isPoint(p string) bool {
	if p == Epoch || p == Now {
		return true
	}
	if strings.HasSuffix(p, "|") {
		_, err := Parse(p)
		return err == nil
	}
	return isTimestamp(p)
}

// isTimestamp checks the ISO-8601 basic form YYYYMMDDTHHMMSS[.ffffff][Z]
// that servers accept; the calendar itself is the server's to check.
func isTimestamp(p string) bool {
	v := strings.TrimSuffix(p, "Z")
	if len(v) < 15 || len(v) > 22 || v[8] != 'T' || len(v) == 16 || (len(v) > 15 && v[15] != '.') {
		return false
	}
	for i := 0; i < len(v); i++ {
		if i != 8 && i != 15 && (v[i] < '0' || v[i] > '9') {
			return false
		}
	}
	return true
}

// String formats the range as it is sent to a server.
func (r Range) String() string {
	var b strings.Builder
	if r.StartIncl {
		b.WriteByte('[')
	} else {
		b.WriteByte('(')
	}
	b.WriteString(strings.Join(r.Start, ","))
	b.WriteByte(':')
	b.WriteString(r.End)
	if r.EndIncl {
		b.WriteByte(']')
	} else {
		b.WriteByte(')')
	}
	return b.String()
}

// resume rewrites the range to start at the store's resume points at (one
// per publisher; none when nothing has been discarded, and then the range
// is returned as it is). The rules, so that the start never moves
// backwards and nothing not yet discarded is skipped:
//
//   - A publisher's start is the later of its original start bookmark and
//     its resume point. A resume point is a message that was received and
//     discarded, so it is resumed after (exclusive).
//   - An original bookmark not yet passed is kept as it is. If the range
//     was inclusive, that keeps the opening '[' for the whole list: the
//     publishers resumed from a discarded message then get that message
//     once more, which IsDiscarded reports as a duplicate. Without such a
//     bookmark the range opens with '('.
//   - EPOCH is dropped: it only says "from the beginning", which the
//     resume points cannot move before.
//   - Timestamps and NOW are kept. Every element of a list bounds where a
//     server starts, and a list of bookmarks alone may make a server replay
//     a publisher it does not list from that publisher's first message,
//     that is before the original start. A kept timestamp holds the start
//     at or after it; a kept NOW stands for the journal end at resume time,
//     which is after every resume point, so it changes nothing but that.
//     An exclusive timestamp skips only messages stamped exactly at it,
//     which come before the first resume point and were not delivered.
//
// The end and its bracket never change. A NOW end is evaluated by the
// server each time the range is placed, so a resumed range ending at NOW
// ends at the journal's end at the time of the resume.
func (r Range) resume(at []Bookmark) Range {
	if len(at) == 0 {
		return r
	}
	points := make(map[uint64]uint64, len(at))
	for _, b := range at {
		points[b.Publisher] = b.Seq
	}
	kept := map[uint64]uint64{} // original bookmarks not yet passed
	var others []string
	for _, e := range r.Start {
		bm, err := Parse(e)
		if err != nil {
			if e != Epoch {
				others = append(others, e)
			}
			continue
		}
		if seq, ok := points[bm.Publisher]; ok && seq >= bm.Seq {
			continue
		}
		if seq, ok := kept[bm.Publisher]; !ok || bm.Seq > seq {
			kept[bm.Publisher] = bm.Seq
		}
	}
	out := Range{End: r.End, EndIncl: r.EndIncl, StartIncl: r.StartIncl && len(kept) > 0}
	bms := make([]Bookmark, 0, len(points)+len(kept))
	for pub, seq := range points {
		if _, ok := kept[pub]; !ok {
			bms = append(bms, Bookmark{Publisher: pub, Seq: seq})
		}
	}
	for pub, seq := range kept {
		bms = append(bms, Bookmark{Publisher: pub, Seq: seq})
	}
	sort.Slice(bms, func(i, j int) bool { return bms[i].Publisher < bms[j].Publisher })
	for _, b := range bms {
		out.Start = append(out.Start, b.String())
	}
	out.Start = append(out.Start, others...)
	return out
}
