package filter

import (
	"fmt"
	"strconv"
	"strings"
)

// SyntaxError reports an expression that does not compile. Pos is the byte
// offset in the expression where the problem was found.
type SyntaxError struct {
	Pos int
	Msg string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("bad filter: %s at offset %d", e.Msg, e.Pos)
}

type tokKind uint8

const (
	tEOF tokKind = iota
	tPath
	tInt
	tFloat
	tString
	tWord  // keyword or function name, upper-cased in text
	tPunct // operators and punctuation, in text
)

type token struct {
	kind tokKind
	pos  int
	text string // word (upper-cased), punctuation, or raw literal text
	str  string // decoded string literal
	num  Value  // numeric literal
	path Path
}

// lexer produces tokens on demand. Whether '/' starts a path or is the
// division operator depends on the previous token, as in the reference
// grammar: in operand position /name is an identifier, after an operand '/'
// divides. So /price*/qty is a product of two fields and /a / /b a quotient.
type lexer struct {
	src string
	pos int
	// prevOperand is true when the previous token ends an operand.
	prevOperand bool
}

func isNameStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '@' || c == '$' || c >= 0x80
}

func isNameChar(c byte) bool {
	return isNameStart(c) || c == '.' || c == '-' || c == ':'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isWordStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

func isWordChar(c byte) bool { return isWordStart(c) || isDigit(c) }

func (lx *lexer) errf(pos int, format string, args ...any) error {
	return &SyntaxError{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

func (lx *lexer) next() (token, error) {
	t, err := lx.scan()
	if err == nil {
		lx.prevOperand = t.kind == tPath || t.kind == tInt || t.kind == tFloat ||
			t.kind == tString || (t.kind == tPunct && (t.text == ")" || t.text == "]")) ||
			(t.kind == tWord && (t.text == "NULL" || t.text == "TRUE" || t.text == "FALSE"))
	}
	return t, err
}

func (lx *lexer) scan() (token, error) {
	s := lx.src
	for lx.pos < len(s) && (isWS(s[lx.pos]) || s[lx.pos] == '\f' || s[lx.pos] == '\v') {
		lx.pos++
	}
	start := lx.pos
	if start >= len(s) {
		return token{kind: tEOF, pos: start}, nil
	}
	c := s[start]
	switch {
	case c == '/' && !lx.prevOperand:
		return lx.lexPathAt(start)
	case c == '[' && !lx.prevOperand && start+1 < len(s) && s[start+1] == '/':
		return lx.lexPathAt(start)
	case c == '\'' || c == '"':
		return lx.lexString(start)
	case isDigit(c) || (c == '.' && start+1 < len(s) && isDigit(s[start+1])):
		return lx.lexNumber(start)
	case isWordStart(c):
		i := start
		for i < len(s) && isWordChar(s[i]) {
			i++
		}
		lx.pos = i
		return token{kind: tWord, pos: start, text: strings.ToUpper(s[start:i])}, nil
	}
	two := ""
	if start+1 < len(s) {
		two = s[start : start+2]
	}
	switch two {
	case "==", "!=", "<>", "<=", ">=":
		lx.pos += 2
		return token{kind: tPunct, pos: start, text: two}, nil
	}
	switch c {
	case '(', ')', ',', '+', '-', '*', '/', '%', '=', '<', '>':
		lx.pos++
		return token{kind: tPunct, pos: start, text: s[start : start+1]}, nil
	}
	return token{}, lx.errf(start, "unexpected character %q", rune(c))
}

// lexPathAt reads an identifier starting at i: a sequence of /name, [/name
// with spaces/...] and [n] segments with no whitespace between them.
func (lx *lexer) lexPathAt(i int) (token, error) {
	s := lx.src
	start := i
	var steps []step
	for i < len(s) {
		switch {
		case s[i] == '/' && i+1 < len(s) && isNameStart(s[i+1]):
			j := i + 1
			for j < len(s) && isNameChar(s[j]) {
				j++
			}
			steps = append(steps, step{name: s[i+1 : j], index: -1, plain: plainKey(s[i+1 : j])})
			i = j
		case s[i] == '[' && i+1 < len(s) && s[i+1] == '/':
			end := strings.IndexByte(s[i:], ']')
			if end < 0 {
				return token{}, lx.errf(i, "unterminated bracketed identifier")
			}
			body := s[i+2 : i+end]
			for _, name := range strings.Split(body, "/") {
				if name == "" {
					return token{}, lx.errf(i, "empty name in bracketed identifier")
				}
				steps = append(steps, step{name: name, index: -1, plain: plainKey(name)})
			}
			i += end + 1
		case s[i] == '[' && len(steps) > 0 && i+1 < len(s) && isDigit(s[i+1]):
			j := i + 1
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			if j >= len(s) || s[j] != ']' {
				return token{}, lx.errf(i, "array index must be a non-negative integer in [ ]")
			}
			n, err := strconv.Atoi(s[i+1 : j])
			if err != nil || n > 1<<30 {
				return token{}, lx.errf(i+1, "array index out of range")
			}
			steps = append(steps, step{index: n})
			i = j + 1
		default:
			goto done
		}
	}
done:
	if len(steps) == 0 {
		return token{}, lx.errf(start, "expected a field name after '/'")
	}
	lx.pos = i
	return token{kind: tPath, pos: start, text: s[start:i], path: Path{steps: steps}}, nil
}

func (lx *lexer) lexNumber(start int) (token, error) {
	s := lx.src
	i := start
	isFloat := false
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i < len(s) && s[i] == '.' {
		isFloat = true
		i++
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if j < len(s) && isDigit(s[j]) {
			isFloat = true
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			i = j
		}
	}
	if i < len(s) && isWordChar(s[i]) {
		return token{}, lx.errf(i, "malformed number")
	}
	lx.pos = i
	text := s[start:i]
	if !isFloat {
		if n, err := strconv.ParseInt(text, 10, 64); err == nil {
			return token{kind: tInt, pos: start, text: text, num: IntValue(n)}, nil
		}
		// Above LONG_MAX: AMPS keeps it unsigned; a double is the closest
		// our Value can hold.
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
			return token{}, lx.errf(start, "malformed number")
		}
	}
	return token{kind: tFloat, pos: start, text: text, num: NumberValue(f)}, nil
}

// lexString reads a '…' or "…" literal with the AMPS escapes \a \b \t \n
// \f \r \xHH \OOO; a backslash before any other character yields that
// character (so \v is "v").
func (lx *lexer) lexString(start int) (token, error) {
	s := lx.src
	q := s[start]
	var b []byte
	i := start + 1
	for {
		if i >= len(s) {
			return token{}, lx.errf(start, "unterminated string literal")
		}
		c := s[i]
		if c == q {
			i++
			break
		}
		if c != '\\' {
			b = append(b, c)
			i++
			continue
		}
		i++
		if i >= len(s) {
			return token{}, lx.errf(start, "unterminated string literal")
		}
		e := s[i]
		switch e {
		case 'a':
			b = append(b, '\a')
		case 'b':
			b = append(b, '\b')
		case 't':
			b = append(b, '\t')
		case 'n':
			b = append(b, '\n')
		case 'f':
			b = append(b, '\f')
		case 'r':
			b = append(b, '\r')
		case 'x':
			j := i + 1
			for j < len(s) && j < i+3 && isHex(s[j]) {
				j++
			}
			if j == i+1 {
				return token{}, lx.errf(i-1, `\x needs hexadecimal digits`)
			}
			n, _ := strconv.ParseUint(s[i+1:j], 16, 8)
			b = append(b, byte(n))
			i = j
			continue
		case '0', '1', '2', '3', '4', '5', '6', '7':
			j := i
			for j < len(s) && j < i+3 && s[j] >= '0' && s[j] <= '7' {
				j++
			}
			n, _ := strconv.ParseUint(s[i:j], 8, 16)
			if n > 255 {
				return token{}, lx.errf(i-1, "octal escape out of range")
			}
			b = append(b, byte(n))
			i = j
			continue
		default:
			b = append(b, e)
		}
		i++
	}
	lx.pos = i
	return token{kind: tString, pos: start, text: s[start:i], str: string(b)}, nil
}

func isHex(c byte) bool {
	return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
