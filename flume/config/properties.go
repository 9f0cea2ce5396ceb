package config

import (
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Entry is one key/value pair of a .properties file and the line where its
// logical line starts.
type Entry struct {
	Key   string
	Value string
	Line  int
}

// SyntaxError is a malformed .properties line (for example a bad \u escape).
type SyntaxError struct {
	File string
	Line int
	Msg  string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// ParseProperties parses data in the Java .properties format, the format of
// Flume's configuration files:
//
//   - a natural line whose first non-blank character is '#' or '!' is a
//     comment, blank lines are skipped;
//   - a line ending in an odd number of backslashes continues on the next
//     line, whose leading white space is dropped;
//   - the key ends at the first unescaped '=', ':' or white space; white space
//     around the separator is skipped, and one '=' or ':' after white space
//     is part of the separator;
//   - escapes \t \n \r \f and \uXXXX are decoded, any other escaped character
//     stands for itself.
//
// Entries are returned in file order; a repeated key appears twice (callers
// keep the last, as java.util.Properties does). Bytes that are not UTF-8 are
// taken as Latin-1, the historical encoding of .properties files.
func ParseProperties(file string, data []byte) ([]Entry, error) {
	p := propParser{file: file, src: data}
	return p.parse()
}

type propParser struct {
	file string
	src  []byte
	pos  int
	line int // 1-based number of the next natural line to read
}

// nextNatural returns the next natural line without its terminator.
func (p *propParser) nextNatural() (string, bool) {
	if p.pos >= len(p.src) {
		return "", false
	}
	start := p.pos
	for p.pos < len(p.src) && p.src[p.pos] != '\n' && p.src[p.pos] != '\r' {
		p.pos++
	}
	s := p.src[start:p.pos]
	if p.pos < len(p.src) {
		if p.src[p.pos] == '\r' && p.pos+1 < len(p.src) && p.src[p.pos+1] == '\n' {
			p.pos++
		}
		p.pos++
	}
	p.line++
	return decodeText(s), true
}

// decodeText returns s as a string, mapping invalid UTF-8 bytes to the
// Latin-1 characters of the same value.
func decodeText(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			r = rune(b[0])
		}
		sb.WriteRune(r)
		b = b[n:]
	}
	return sb.String()
}

func isPropSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\f' }

// trailingBackslashes counts the backslashes that end s.
func trailingBackslashes(s string) int {
	n := 0
	for i := len(s) - 1; i >= 0 && s[i] == '\\'; i-- {
		n++
	}
	return n
}

func (p *propParser) parse() ([]Entry, error) {
	var out []Entry
	for {
		raw, ok := p.nextNatural()
		if !ok {
			return out, nil
		}
		startLine := p.line
		s := strings.TrimLeft(raw, " \t\f")
		if s == "" || s[0] == '#' || s[0] == '!' {
			continue
		}
		// Join continuation lines into one logical line.
		var logical strings.Builder
		for {
			if trailingBackslashes(s)%2 == 1 {
				logical.WriteString(s[:len(s)-1])
				next, ok := p.nextNatural()
				if !ok {
					break
				}
				s = strings.TrimLeft(next, " \t\f")
				continue
			}
			logical.WriteString(s)
			break
		}
		key, value, err := splitLogical(logical.String())
		if err != nil {
			return out, &SyntaxError{File: p.file, Line: startLine, Msg: err.Error()}
		}
		out = append(out, Entry{Key: key, Value: value, Line: startLine})
	}
}

// splitLogical splits a logical line (continuations joined, leading blanks
// removed) into its unescaped key and value.
func splitLogical(s string) (string, string, error) {
	i := 0
	for i < len(s) {
		c := s[i]
		if c == '\\' {
			i += 2
			continue
		}
		if c == '=' || c == ':' || isPropSpace(c) {
			break
		}
		i++
	}
	if i > len(s) {
		i = len(s)
	}
	rawKey := s[:i]
	j := i
	for j < len(s) && isPropSpace(s[j]) {
		j++
	}
	if j < len(s) && (s[j] == '=' || s[j] == ':') {
		j++
		for j < len(s) && isPropSpace(s[j]) {
			j++
		}
	}
	key, err := unescape(rawKey)
	if err != nil {
		return "", "", fmt.Errorf("key: %w", err)
	}
	value, err := unescape(s[j:])
	if err != nil {
		return "", "", fmt.Errorf("value of %q: %w", key, err)
	}
	return key, value, nil
}

func unescape(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		i++
		if i >= len(s) {
			// A lone trailing backslash (end of file after a continuation)
			// stands for nothing, as in Java.
			break
		}
		switch c = s[i]; c {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			r, err := hex4(s, i+1)
			if err != nil {
				return "", err
			}
			i += 4
			// Java strings are UTF-16: a high surrogate escape followed by a
			// low one is a single character.
			if utf16.IsSurrogate(r) && i+6 < len(s) && s[i+1] == '\\' && s[i+2] == 'u' {
				if r2, err := hex4(s, i+3); err == nil {
					if c := utf16.DecodeRune(r, r2); c != utf8.RuneError {
						r = c
						i += 6
					}
				}
			}
			b.WriteRune(r)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// hex4 decodes the four hex digits of a \uXXXX escape starting at s[i].
func hex4(s string, i int) (rune, error) {
	if i+4 > len(s) {
		return 0, fmt.Errorf(`malformed \uXXXX escape %q`, s[i-2:])
	}
	var r rune
	for k := 0; k < 4; k++ {
		h := s[i+k]
		var d byte
		switch {
		case h >= '0' && h <= '9':
			d = h - '0'
		case h >= 'a' && h <= 'f':
			d = h - 'a' + 10
		case h >= 'A' && h <= 'F':
			d = h - 'A' + 10
		default:
			return 0, fmt.Errorf(`malformed \uXXXX escape %q`, s[i-2:i+4])
		}
		r = r<<4 | rune(d)
	}
	return r, nil
}
