package hdfs

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"ampsflume/flume"
)

// Template is a parsed hdfs.path or hdfs.filePrefix with Flume's escapes
// (BucketPath): %{header}, the strftime-like time escapes, %[localhost],
// %[IP], %[FQDN] and %%.
type Template struct {
	src   string
	parts []part
	// NeedsTime reports whether a time escape is used, so that events need
	// a timestamp header (or hdfs.useLocalTimeStamp).
	NeedsTime bool
}

type partKind uint8

const (
	partLiteral partKind = iota
	partHeader
	partTime
	partHost
)

type part struct {
	kind partKind
	text string // literal text, header name, or host escape name
	verb byte   // time escape letter
}

// timeVerbs are the single-letter escapes, as BucketPath maps them to Java
// date patterns (English names, as Flume prints them by default).
const timeVerbs = "aAbBcdDeHIjklmMnpsStyYz"

// ParseTemplate parses s; an unknown or unterminated escape is an error, so a
// mistyped path is caught when the configuration is loaded.
func ParseTemplate(s string) (*Template, error) {
	t := &Template{src: s}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			t.parts = append(t.parts, part{kind: partLiteral, text: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '%' {
			lit.WriteByte(c)
			continue
		}
		if i+1 >= len(s) {
			return nil, fmt.Errorf("%q: %% at the end: write %%%% for a literal %%", s)
		}
		i++
		switch v := s[i]; {
		case v == '%':
			lit.WriteByte('%')
		case v == '{' || v == '[':
			closer := byte('}')
			if v == '[' {
				closer = ']'
			}
			end := strings.IndexByte(s[i+1:], closer)
			if end < 0 {
				return nil, fmt.Errorf("%q: %%%c at offset %d is not closed with %c", s, v, i-1, closer)
			}
			name := s[i+1 : i+1+end]
			if name == "" {
				return nil, fmt.Errorf("%q: empty %%%c%c at offset %d", s, v, closer, i-1)
			}
			flush()
			if v == '{' {
				t.parts = append(t.parts, part{kind: partHeader, text: name})
			} else {
				switch strings.ToLower(name) {
				case "localhost", "ip", "fqdn":
					t.parts = append(t.parts, part{kind: partHost, text: strings.ToLower(name)})
				default:
					return nil, fmt.Errorf("%q: unknown escape %%[%s]: use %%[localhost], %%[IP] or %%[FQDN]", s, name)
				}
			}
			i += end + 1
		case strings.IndexByte(timeVerbs, v) >= 0:
			flush()
			t.parts = append(t.parts, part{kind: partTime, verb: v})
			t.NeedsTime = true
		default:
			return nil, fmt.Errorf("%q: unknown escape %%%c", s, v)
		}
	}
	flush()
	return t, nil
}

// String returns the template's source text.
func (t *Template) String() string { return t.src }

// LiteralPrefix is the text before the first escape.
func (t *Template) LiteralPrefix() string {
	if len(t.parts) > 0 && t.parts[0].kind == partLiteral {
		return t.parts[0].text
	}
	return ""
}

// Host holds the values of %[localhost], %[IP] and %[FQDN].
type Host struct {
	Name, IP, FQDN string
}

// ErrNoTimestamp is matched by the error Expand returns when a time escape
// needs a timestamp header that the event does not have.
var ErrNoTimestamp = errors.New("expected timestamp in the Flume event headers, but it was null")

// ErrUnsafePath is matched by the error Expand returns when a header value
// would leave the configured base path.
var ErrUnsafePath = errors.New("header value would escape the base path")

// Timestamp returns the time used for an event's time escapes: its
// "timestamp" header (epoch milliseconds), or now when useLocal is set, then
// rounded down as hdfs.round asks, in loc.
func Timestamp(e *flume.Event, useLocal bool, now time.Time, r Rounding, loc *time.Location) (time.Time, error) {
	var ts time.Time
	if useLocal {
		ts = now
	} else {
		v, ok := e.Headers["timestamp"]
		if !ok {
			return time.Time{}, fmt.Errorf("%w: add a timestamp interceptor or set hdfs.useLocalTimeStamp = true", ErrNoTimestamp)
		}
		ms, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("timestamp header %q is not epoch milliseconds", v)
		}
		ts = time.UnixMilli(ms)
	}
	return r.Apply(ts.In(loc)), nil
}

// Rounding is hdfs.round, hdfs.roundValue and hdfs.roundUnit.
type Rounding struct {
	Value int
	Unit  string // "second", "minute" or "hour"; "" means no rounding
}

// Apply rounds t down to a multiple of the value in the unit, in t's time
// zone, as Flume's TimestampRoundDownUtil does.
func (r Rounding) Apply(t time.Time) time.Time {
	if r.Unit == "" || r.Value <= 0 {
		return t
	}
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	switch r.Unit {
	case "second":
		return time.Date(y, mo, d, h, mi, s-s%r.Value, 0, t.Location())
	case "minute":
		return time.Date(y, mo, d, h, mi-mi%r.Value, 0, 0, t.Location())
	case "hour":
		return time.Date(y, mo, d, h-h%r.Value, 0, 0, 0, t.Location())
	}
	return t
}

// Expand substitutes the escapes for event e at time ts (used only when
// NeedsTime). A header value that is absolute, or has a ".." element, or a
// NUL, is refused: headers come from outside and must never choose where
// outside the configured directory a file lands. A missing header expands to
// "" as in Flume.
func (t *Template) Expand(dst []byte, e *flume.Event, ts time.Time, host Host) ([]byte, error) {
	for _, p := range t.parts {
		switch p.kind {
		case partLiteral:
			dst = append(dst, p.text...)
		case partHeader:
			v := e.Headers[p.text]
			if err := checkHeaderValue(v); err != nil {
				return dst, fmt.Errorf("header %q = %q: %w", p.text, v, err)
			}
			dst = append(dst, v...)
		case partHost:
			switch p.text {
			case "localhost":
				dst = append(dst, host.Name...)
			case "ip":
				dst = append(dst, host.IP...)
			default:
				dst = append(dst, host.FQDN...)
			}
		case partTime:
			dst = appendTime(dst, p.verb, ts)
		}
	}
	return dst, nil
}

func checkHeaderValue(v string) error {
	if strings.IndexByte(v, 0) >= 0 {
		return fmt.Errorf("%w: it contains a NUL byte", ErrUnsafePath)
	}
	if strings.HasPrefix(v, "/") || strings.HasPrefix(v, `\`) {
		return fmt.Errorf("%w: it is an absolute path", ErrUnsafePath)
	}
	for _, el := range strings.FieldsFunc(v, func(r rune) bool { return r == '/' || r == '\\' }) {
		if el == ".." {
			return fmt.Errorf("%w: it has a \"..\" element", ErrUnsafePath)
		}
	}
	return nil
}

func appendTime(dst []byte, verb byte, t time.Time) []byte {
	switch verb {
	case 'a':
		return t.AppendFormat(dst, "Mon")
	case 'A':
		return t.AppendFormat(dst, "Monday")
	case 'b':
		return t.AppendFormat(dst, "Jan")
	case 'B':
		return t.AppendFormat(dst, "January")
	case 'c':
		return t.AppendFormat(dst, "Mon Jan 2 15:04:05 2006")
	case 'd':
		return t.AppendFormat(dst, "02")
	case 'D':
		return t.AppendFormat(dst, "01/02/06")
	case 'e':
		return strconv.AppendInt(dst, int64(t.Day()), 10)
	case 'H':
		return t.AppendFormat(dst, "15")
	case 'I':
		return t.AppendFormat(dst, "03")
	case 'j':
		return t.AppendFormat(dst, "002")
	case 'k':
		return strconv.AppendInt(dst, int64(t.Hour()), 10)
	case 'l':
		return t.AppendFormat(dst, "3")
	case 'm':
		return t.AppendFormat(dst, "01")
	case 'M':
		return t.AppendFormat(dst, "04")
	case 'n':
		return strconv.AppendInt(dst, int64(t.Month()), 10)
	case 'p':
		return t.AppendFormat(dst, "PM")
	case 's':
		return strconv.AppendInt(dst, t.Unix(), 10)
	case 'S':
		return t.AppendFormat(dst, "05")
	case 't':
		return strconv.AppendInt(dst, t.UnixMilli(), 10)
	case 'y':
		return t.AppendFormat(dst, "06")
	case 'Y':
		return t.AppendFormat(dst, "2006")
	case 'z':
		return t.AppendFormat(dst, "-0700")
	}
	return dst
}

// usesHeaders reports whether a %{header} escape is used: only header
// values, which come from outside, can steer a path.
func (t *Template) usesHeaders() bool {
	for _, p := range t.parts {
		if p.kind == partHeader {
			return true
		}
	}
	return false
}

func (t *Template) usesHost() bool {
	for _, p := range t.parts {
		if p.kind == partHost {
			return true
		}
	}
	return false
}

// baseDir is the literal directory before the first escape: the part of the
// path no event can change, which recovery scans and which escapes may not
// climb out of.
func (t *Template) baseDir() string {
	lit := t.LiteralPrefix()
	if len(t.parts) == 1 && t.parts[0].kind == partLiteral {
		return lit
	}
	if i := strings.LastIndexByte(lit, '/'); i >= 0 {
		return lit[:i+1]
	}
	return ""
}
