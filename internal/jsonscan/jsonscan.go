// Package jsonscan skips over values of a JSON document that is already
// known to be valid, without decoding them. The server's delta merge and its
// enrichment rewrite both walk documents member by member and copy what they
// do not change byte for byte; they share these scanners.
//
// The functions assume valid JSON: on malformed input they return an offset
// within or at the end of b, never past it, and never panic for i < len(b).
package jsonscan

// IsSpace reports whether c is JSON insignificant whitespace.
func IsSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// SkipSpace returns the offset of the first non-whitespace byte at or after i.
func SkipSpace(b []byte, i int) int {
	for i < len(b) && IsSpace(b[i]) {
		i++
	}
	return i
}

// SkipValue returns the offset just past the JSON value starting at b[i].
func SkipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return SkipString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = SkipString(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return i
	}
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && !IsSpace(b[i]) {
		i++
	}
	return i
}

// SkipString returns the offset just past the JSON string whose opening quote
// is at b[i].
func SkipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	if i > len(b) {
		return len(b)
	}
	return i
}
