package aggregate

import (
	"math"
	"strconv"
	"unicode/utf8"

	"ampsflume/filter"
)

// AppendValue appends v as a JSON value the way AMPS prints projected
// fields: integers without a fraction; doubles with 15 significant digits,
// trailing zeros removed and ".0" appended when the result would otherwise
// read as an integer (6215.0, 62.2966666666667); strings quoted; booleans
// as true/false. NaN and infinities, which JSON cannot carry, print as
// null. NULL values are never passed here: projections omit them.
func AppendValue(b []byte, v filter.Value) []byte {
	switch v.Kind {
	case filter.Number:
		if math.IsNaN(v.Num) || math.IsInf(v.Num, 0) {
			return append(b, "null"...)
		}
		if v.IsInt && math.Abs(v.Num) < 1<<63 {
			return strconv.AppendInt(b, int64(v.Num), 10)
		}
		return AppendDouble(b, v.Num)
	case filter.String:
		return appendString(b, v.Str)
	case filter.Bool:
		return strconv.AppendBool(b, v.Bool)
	}
	return append(b, "null"...)
}

// AppendDouble appends a finite double with 15 significant digits and a
// ".0" suffix when it has neither a fraction nor an exponent.
func AppendDouble(b []byte, f float64) []byte {
	start := len(b)
	b = strconv.AppendFloat(b, f, 'g', 15, 64)
	for _, c := range b[start:] {
		if c == '.' || c == 'e' {
			return b
		}
	}
	return append(b, ".0"...)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Invalid UTF-8 is replaced by
// U+FFFD so the output is always valid JSON.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, "\ufffd"...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
