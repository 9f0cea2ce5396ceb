package logger

import (
	"sort"
	"strings"

	"ampsflume/flume"
)

const hexDigits = "0123456789ABCDEF"

// DumpEvent formats an event as Flume's EventHelper does:
// "{ headers:{k=v, ...} body:<dump> }", the dump covering at most maxBytes
// bytes of the body in lines of 16: each byte as two hex digits, then the
// bytes again as ASCII with '.' for unprintable ones. The first line's offset
// is left out, as in Flume; further lines keep theirs.
func DumpEvent(e *flume.Event, maxBytes int) string {
	var b strings.Builder
	b.WriteString("{ headers:")
	writeHeaders(&b, e.Headers)
	b.WriteString(" body:")
	data := e.Body
	if maxBytes >= 0 && len(data) > maxBytes {
		data = data[:maxBytes]
	}
	for off := 0; off < len(data); off += 16 {
		line := data[off:min(off+16, len(data))]
		if off > 0 {
			b.WriteByte('\n')
			writeHex32(&b, uint32(off))
		}
		b.WriteByte(' ')
		for k := range 16 {
			if k < len(line) {
				b.WriteByte(hexDigits[line[k]>>4])
				b.WriteByte(hexDigits[line[k]&15])
			} else {
				b.WriteString("  ")
			}
			b.WriteByte(' ')
		}
		for _, c := range line {
			if c >= ' ' && c < 127 {
				b.WriteByte(c)
			} else {
				b.WriteByte('.')
			}
		}
	}
	b.WriteString(" }")
	return b.String()
}

func writeHex32(b *strings.Builder, v uint32) {
	for shift := 28; shift >= 0; shift -= 4 {
		b.WriteByte(hexDigits[(v>>shift)&15])
	}
}

// writeHeaders prints headers the way a Java map prints itself, sorted.
func writeHeaders(b *strings.Builder, h map[string]string) {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(h[k])
	}
	b.WriteByte('}')
}
