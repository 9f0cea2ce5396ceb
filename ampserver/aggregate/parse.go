package aggregate

import (
	"fmt"
	"strings"

	"ampsflume/filter"
)

// fn is an aggregate function.
type fn uint8

const (
	fnAvg fn = iota
	fnSum
	fnCount
	fnMin
	fnMax
	fnCountDistinct
	fnStddevPop
	fnStddevSamp
	fnAny
	fnUnique
	fnGroupConcat
)

var fnNames = map[string]fn{
	"AVG":            fnAvg,
	"SUM":            fnSum,
	"COUNT":          fnCount,
	"MIN":            fnMin,
	"MAX":            fnMax,
	"COUNT_DISTINCT": fnCountDistinct,
	"STDDEV_POP":     fnStddevPop,
	"STDDEV_SAMP":    fnStddevSamp,
	"ANY":            fnAny,
	"UNIQUE":         fnUnique,
	"GROUP_CONCAT":   fnGroupConcat,
}

// needs says which running statistics a column keeps; a column is shared by
// every aggregate over the same argument text, so AVG(/p), SUM(/p) and
// MAX(/p) evaluate /p once per record.
type needs uint8

const (
	needSum      needs = 1 << iota // count, numeric sums, NaN count
	needWelford                    // running mean and M2
	needOrder                      // ordered multiset (MIN, MAX)
	needDistinct                   // value → multiplicity (COUNT_DISTINCT, GROUP_CONCAT, UNIQUE, ANY)
)

func (f fn) needs() needs {
	switch f {
	case fnAvg, fnSum, fnCount:
		return needSum
	case fnStddevPop, fnStddevSamp:
		return needSum | needWelford
	case fnMin, fnMax:
		return needOrder
	default:
		return needDistinct | needSum
	}
}

// call is one aggregate call inside a projection entry.
type call struct {
	fn    fn
	col   int    // index into View.cols
	delim string // GROUP_CONCAT separator
}

// entry is one compiled projection entry.
type entry struct {
	src  string      // as written
	out  filter.Path // output path
	kind entryKind
	expr Evaluator // entryPlain: evaluated on the last processed record; entryOuter: on the synthetic aggregate document
	agg  call      // entryAgg
	// entryOuter: the aggregates the outer expression references, in
	// placeholder order (/__agg0, /__agg1, ...).
	calls []call
}

type entryKind uint8

const (
	entryPlain entryKind = iota // no aggregate: value of the last record processed
	entryAgg                    // exactly one aggregate call
	entryOuter                  // an expression over aggregate results
)

// splitAs splits "expr AS /out" at its last top-level, case-insensitive AS.
// ok is false when there is no AS.
func splitAs(s string) (expr, out string, ok bool) {
	last := -1
	scan(s, func(i int) bool {
		if i > 0 && i+4 <= len(s) && isSpace(s[i-1]) && strings.EqualFold(s[i:i+2], "as") && isSpace(s[i+2]) {
			last = i
		}
		return true
	})
	if last < 0 {
		return s, "", false
	}
	return strings.TrimSpace(s[:last]), strings.TrimSpace(s[last+2:]), true
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// scan calls visit with the offset of every byte of s that is at nesting
// depth zero and outside string literals and bracketed identifiers; visit
// returns false to stop.
func scan(s string, visit func(i int) bool) {
	depth := 0
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if quote != 0 {
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
			continue
		}
		switch c {
		case '\'', '"':
			quote = c
			continue
		case '(', '[':
			depth++
			continue
		case ')', ']':
			depth--
			continue
		}
		if depth == 0 && !visit(i) {
			return
		}
	}
}

// aggCall is an aggregate call found in an expression: s[start:end] is the
// whole call, args its top-level arguments.
type aggCall struct {
	fn         fn
	start, end int
	args       []string
}

func isWordChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// findCalls returns the aggregate calls of s that are not nested inside
// another aggregate (nesting is rejected by the caller). Function names are
// recognised only as whole words not preceded by a path character, so a
// field named /sum is not mistaken for SUM.
func findCalls(s string) ([]aggCall, error) {
	var calls []aggCall
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if quote != 0 {
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
			continue
		}
		if c == '\'' || c == '"' {
			quote = c
			continue
		}
		if c == '[' && i+1 < len(s) && s[i+1] == '/' {
			// Bracketed identifier: skip to its closing bracket.
			if j := strings.IndexByte(s[i:], ']'); j > 0 {
				i += j
			}
			continue
		}
		if !isWordChar(c) || (i > 0 && (isWordChar(s[i-1]) || s[i-1] == '/' || s[i-1] == '@' || s[i-1] == '$' || s[i-1] == '.')) {
			continue
		}
		j := i
		for j < len(s) && isWordChar(s[j]) {
			j++
		}
		f, ok := fnNames[strings.ToUpper(s[i:j])]
		k := j
		for k < len(s) && isSpace(s[k]) {
			k++
		}
		if !ok || k >= len(s) || s[k] != '(' {
			i = j - 1
			continue
		}
		end, args, err := callArgs(s, k)
		if err != nil {
			return nil, err
		}
		calls = append(calls, aggCall{fn: f, start: i, end: end, args: args})
		i = end - 1
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated string")
	}
	return calls, nil
}

// callArgs parses the parenthesised argument list starting at s[open]=='('
// and returns the offset just past ')' and the trimmed arguments.
func callArgs(s string, open int) (end int, args []string, err error) {
	depth := 0
	var quote byte
	start := open + 1
	for i := open; i < len(s); i++ {
		c := s[i]
		if quote != 0 {
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
			continue
		}
		switch c {
		case '\'', '"':
			quote = c
		case '(', '[':
			depth++
		case ')', ']':
			depth--
			if depth == 0 {
				args = append(args, strings.TrimSpace(s[start:i]))
				return i + 1, args, nil
			}
		case ',':
			if depth == 1 {
				args = append(args, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	return 0, nil, fmt.Errorf("unclosed '(' at offset %d", open)
}

// stringLiteral decodes a quoted literal used as GROUP_CONCAT's separator.
func stringLiteral(s string) (string, error) {
	if len(s) < 2 || (s[0] != '\'' && s[0] != '"') || s[len(s)-1] != s[0] {
		return "", fmt.Errorf("separator %s must be a string literal", s)
	}
	var b strings.Builder
	body := s[1 : len(s)-1]
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c == '\\' && i+1 < len(body) {
			i++
			switch body[i] {
			case 'n':
				c = '\n'
			case 't':
				c = '\t'
			case 'r':
				c = '\r'
			default:
				c = body[i]
			}
		} else if c == s[0] {
			return "", fmt.Errorf("separator %s must be a single string literal", s)
		}
		b.WriteByte(c)
	}
	return b.String(), nil
}

// hasFieldRef reports whether s references a document field at top level:
// a '/' directly followed by a name character, or a bracketed [/identifier].
// Division is written with spaces around '/', so it does not count.
func hasFieldRef(s string) bool {
	found := false
	var quote byte
	for i := 0; i < len(s) && !found; i++ {
		c := s[i]
		if quote != 0 {
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
			continue
		}
		switch {
		case c == '\'' || c == '"':
			quote = c
		case c == '/' && i+1 < len(s) && !isSpace(s[i+1]) && s[i+1] != '(':
			found = true
		case c == '[' && i+1 < len(s) && s[i+1] == '/':
			found = true
		}
	}
	return found
}
