package filter

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// The scanner below works on the raw message bytes. It never decodes the
// whole document: a lookup walks object keys, skipping the values it does not
// need, and stops at the first match. Every function is total: malformed
// input makes a lookup fail (NULL), never panic.

// scalarEnd marks the bytes that end a number or literal token.
var scalarEnd = [256]bool{' ': true, '\t': true, '\n': true, '\r': true, ',': true, '}': true, ']': true, ':': true}

func isWS(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipWS(d []byte, i int) int {
	for i < len(d) && isWS(d[i]) {
		i++
	}
	return i
}

// skipString returns the index just after the closing quote of the string
// whose opening quote is at i, or -1 when it is unterminated.
func skipString(d []byte, i int) int {
	i++
	for i < len(d) {
		switch d[i] {
		case '"':
			return i + 1
		case '\\':
			i += 2
		default:
			i++
		}
	}
	return -1
}

// skipValue returns the index just after the JSON value starting at i
// (whitespace already skipped), or -1 when the value is malformed.
func skipValue(d []byte, i int) int {
	if i >= len(d) {
		return -1
	}
	switch d[i] {
	case '"':
		return skipString(d, i)
	case '{', '[':
		depth := 0
		for i < len(d) {
			switch d[i] {
			case '"':
				i = skipString(d, i)
				if i < 0 {
					return -1
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return -1
	default:
		start := i
		for i < len(d) && !scalarEnd[d[i]] {
			i++
		}
		if i == start {
			return -1
		}
		return i
	}
}

// objectField finds the value of key name in the object starting at i (the
// '{'). It returns the start of the value, or -1. plain is plainKey(name),
// computed once when the path is compiled.
func objectField(d []byte, i int, name string, plain bool) int {
	i++
	for {
		i = skipWS(d, i)
		if i >= len(d) || d[i] != '"' {
			return -1
		}
		// Fast path: the key is exactly name (names holding quotes or
		// backslashes take the general path below).
		if k := i + 1 + len(name); k < len(d) && d[k] == '"' && plain && string(d[i+1:k]) == name {
			i = skipWS(d, k+1)
			if i >= len(d) || d[i] != ':' {
				return -1
			}
			i = skipWS(d, i+1)
			if i >= len(d) {
				return -1
			}
			return i
		}
		// Scan the key in place, noting escapes so that the common case
		// compares bytes directly.
		j := i + 1
		esc := false
		for j < len(d) && d[j] != '"' {
			if d[j] == '\\' {
				esc = true
				j++
			}
			j++
		}
		if j >= len(d) {
			return -1
		}
		key := d[i+1 : j]
		i = skipWS(d, j+1)
		if i >= len(d) || d[i] != ':' {
			return -1
		}
		i = skipWS(d, i+1)
		var match bool
		if esc {
			k, ok := unescapeJSON(key)
			match = ok && k == name
		} else {
			match = string(key) == name
		}
		if match {
			if i >= len(d) {
				return -1
			}
			return i
		}
		i = skipValue(d, i)
		if i < 0 {
			return -1
		}
		i = skipWS(d, i)
		if i >= len(d) || d[i] != ',' {
			return -1
		}
		i++
	}
}

func plainKey(name string) bool {
	return strings.IndexByte(name, '\\') < 0 && strings.IndexByte(name, '"') < 0
}

// arrayElem returns the start of element n of the array at i (the '['), or -1.
func arrayElem(d []byte, i int, n int) int {
	i = skipWS(d, i+1)
	if i < len(d) && d[i] == ']' {
		return -1
	}
	for k := 0; ; k++ {
		if i >= len(d) {
			return -1
		}
		if k == n {
			return i
		}
		i = skipValue(d, i)
		if i < 0 {
			return -1
		}
		i = skipWS(d, i)
		if i >= len(d) || d[i] != ',' {
			return -1
		}
		i = skipWS(d, i+1)
	}
}

// arrayIter walks the elements of an array without allocating.
type arrayIter struct {
	d    []byte
	i    int
	done bool
}

func newArrayIter(d []byte, i int) arrayIter {
	it := arrayIter{d: d, i: skipWS(d, i+1)}
	if it.i >= len(d) || d[it.i] == ']' {
		it.done = true
	}
	return it
}

// next returns the raw bytes of the next element, or false at the end (or on
// malformed input).
func (it *arrayIter) next() ([]byte, bool) {
	if it.done {
		return nil, false
	}
	start := it.i
	end := skipValue(it.d, start)
	if end < 0 {
		it.done = true
		return nil, false
	}
	j := skipWS(it.d, end)
	if j < len(it.d) && it.d[j] == ',' {
		it.i = skipWS(it.d, j+1)
	} else {
		it.done = true
	}
	return it.d[start:end], true
}

// scalarOf converts one raw JSON value to a Value. An array yields its first
// element (AMPS: arithmetic and functions use the first element); an empty
// array, an empty object, an empty string and null are NULL; a non-empty
// object is its raw JSON text. When alias is true, strings without escapes
// share memory with raw and must not outlive it.
func scalarOf(raw []byte, alias bool) Value {
	if len(raw) == 0 {
		return NullValue
	}
	switch raw[0] {
	case '"':
		if len(raw) < 2 || raw[len(raw)-1] != '"' {
			return NullValue
		}
		body := raw[1 : len(raw)-1]
		if len(body) == 0 {
			return NullValue
		}
		if bytes.IndexByte(body, '\\') >= 0 {
			s, ok := unescapeJSON(body)
			if !ok || s == "" {
				return NullValue
			}
			return StringValue(s)
		}
		if alias {
			return StringValue(unsafe.String(&body[0], len(body)))
		}
		return StringValue(string(body))
	case '[':
		// The first element. Step into nested arrays without measuring
		// them, so hostile nesting costs linear time and no stack.
		i := 0
		for i < len(raw) && raw[i] == '[' {
			i = skipWS(raw, i+1)
		}
		if i >= len(raw) || raw[i] == ']' {
			return NullValue
		}
		end := skipValue(raw, i)
		if end < 0 {
			return NullValue
		}
		return scalarOf(raw[i:end], alias)
	case '{':
		j := skipWS(raw, 1)
		if j >= len(raw) || raw[j] == '}' {
			return NullValue
		}
		if alias {
			return StringValue(unsafe.String(&raw[0], len(raw)))
		}
		return StringValue(string(raw))
	case 't':
		if string(raw) == "true" {
			return BoolValue(true)
		}
	case 'f':
		if string(raw) == "false" {
			return BoolValue(false)
		}
	case 'n':
		return NullValue
	default:
		return parseJSONNumber(raw)
	}
	return NullValue
}

// exactPow10 holds the powers of ten a float64 represents exactly.
var exactPow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// shortDecimal finishes parsing a decimal without exponent whose integer
// digits (value n) end at raw[k] == '.', at most 18 bytes long. When every
// digit fits in an exact float64 mantissa, one division by an exact power
// of ten is correctly rounded, so the result is the one strconv.ParseFloat
// gives; ok is false for anything else, which takes the general path.
func shortDecimal(raw []byte, k int, n int64, neg bool) (Value, bool) {
	if raw[k] != '.' {
		return Value{}, false
	}
	digits := k
	if neg {
		digits--
	}
	frac := 0
	for k++; k < len(raw); k++ {
		c := raw[k]
		if c < '0' || c > '9' {
			return Value{}, false
		}
		n = n*10 + int64(c-'0')
		frac++
	}
	if digits+frac == 0 || n > 1<<53 || frac >= len(exactPow10) {
		return Value{}, false
	}
	f := float64(n) / exactPow10[frac]
	if neg {
		f = -f
	}
	return NumberValue(f), true
}

// parseJSONNumber parses a JSON number token: integers (no '.', 'e' or 'E')
// become integer Numbers unless they overflow int64.
func parseJSONNumber(raw []byte) Value {
	// Fast paths: short plain integers and decimals need no strconv.
	if len(raw) <= 18 {
		neg := raw[0] == '-'
		k := 0
		if neg {
			k = 1
		}
		if k < len(raw) {
			var n int64
			for ; k < len(raw); k++ {
				c := raw[k]
				if c < '0' || c > '9' {
					break
				}
				n = n*10 + int64(c-'0')
			}
			if k == len(raw) {
				if neg {
					n = -n
				}
				return IntValue(n)
			}
			if v, ok := shortDecimal(raw, k, n, neg); ok {
				return v
			}
		}
	}
	s := unsafe.String(&raw[0], len(raw))
	isFloat := false
	for _, c := range raw {
		switch {
		case c == '.' || c == 'e' || c == 'E':
			isFloat = true
		case c == '-' || c == '+' || (c >= '0' && c <= '9'):
		default:
			return NullValue
		}
	}
	if !isFloat {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return IntValue(n)
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
			return NullValue
		}
	}
	return NumberValue(f)
}

// unescapeJSON decodes the body of a JSON string (without quotes).
func unescapeJSON(b []byte) (string, bool) {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i >= len(b) {
			return "", false
		}
		switch b[i] {
		case '"', '\\', '/':
			out = append(out, b[i])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(b, i+1)
			if !ok {
				return "", false
			}
			i += 4
			if utf16.IsSurrogate(r) {
				if i+6 < len(b) && b[i+1] == '\\' && b[i+2] == 'u' {
					if r2, ok := hex4(b, i+3); ok {
						if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
							r = d
							i += 6
						}
					}
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			return "", false
		}
	}
	return string(out), true
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		var v byte
		switch {
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(v)
	}
	return r, true
}
