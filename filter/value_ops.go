package filter

import (
	"math"
	"strconv"
	"strings"
)

// IsNull reports whether v is NULL.
func (v Value) IsNull() bool { return v.Kind == Null }

// IsNaN reports whether v is a NaN Number.
func (v Value) IsNaN() bool { return v.Kind == Number && math.IsNaN(v.Num) }

// Truth is the three-valued truth of v as a condition: ok=false means
// unknown (NULL). Booleans are themselves; numbers are true when non-zero
// (NaN is unknown); strings that parse as numbers follow the number rule,
// "true"/"false" (any case) are themselves, anything else is unknown.
func (v Value) Truth() (val, ok bool) {
	switch v.Kind {
	case Bool:
		return v.Bool, true
	case Number:
		if math.IsNaN(v.Num) {
			return false, false
		}
		return v.Num != 0, true
	case String:
		if n, ok := parseNumber(v.Str); ok {
			return n.Truth()
		}
		switch {
		case strings.EqualFold(v.Str, "true"):
			return true, true
		case strings.EqualFold(v.Str, "false"):
			return false, true
		}
	}
	return false, false
}

// AsNumber converts v to a Number for arithmetic: NULL stays NULL, booleans
// are 1 and 0, strings are parsed (integers without '.' or exponent stay
// integers) and an unparseable string is NaN.
func (v Value) AsNumber() Value {
	switch v.Kind {
	case Number, Null:
		return v
	case Bool:
		if v.Bool {
			return IntValue(1)
		}
		return IntValue(0)
	default:
		if n, ok := parseNumber(v.Str); ok {
			return n
		}
		return NumberValue(math.NaN())
	}
}

// parseNumber parses a string as an AMPS number, tolerating surrounding
// blanks.
func parseNumber(s string) (Value, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return NullValue, false
	}
	isFloat := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
		case c == '+' || c == '-':
			if i != 0 && s[i-1] != 'e' && s[i-1] != 'E' {
				return NullValue, false
			}
		case c == '.' || c == 'e' || c == 'E':
			isFloat = true
		default:
			return NullValue, false
		}
	}
	if !isFloat {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return IntValue(n), true
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
			return NullValue, false
		}
	}
	return NumberValue(f), true
}

// Text converts v to its string form for string functions: integers without
// a fraction, doubles with up to 15 significant digits, booleans as
// true/false. NULL gives "".
func (v Value) Text() string {
	switch v.Kind {
	case String:
		return v.Str
	case Bool:
		if v.Bool {
			return "true"
		}
		return "false"
	case Number:
		return formatNumber(v)
	}
	return ""
}

func formatNumber(v Value) string {
	if v.IsInt && math.Abs(v.Num) < 1<<63 {
		return strconv.FormatInt(int64(v.Num), 10)
	}
	switch {
	case math.IsNaN(v.Num):
		return "NaN"
	case math.IsInf(v.Num, 1):
		return "Infinity"
	case math.IsInf(v.Num, -1):
		return "-Infinity"
	}
	return strconv.FormatFloat(v.Num, 'g', 15, 64)
}

// String is a debugging form that keeps the type visible: NULL, true,
// false, 12 (integer), 12.0 or 0.5 (double, shortest round-trip digits),
// 'text' (string, quoted as in the expression language).
func (v Value) String() string {
	switch v.Kind {
	case Null:
		return "NULL"
	case Bool:
		return v.Text()
	case String:
		return quoteString(v.Str)
	}
	if v.IsInt && math.Abs(v.Num) < 1<<63 {
		return formatNumber(v)
	}
	switch {
	case math.IsNaN(v.Num):
		return "NaN"
	case math.IsInf(v.Num, 1):
		return "Infinity"
	case math.IsInf(v.Num, -1):
		return "-Infinity"
	}
	s := strconv.FormatFloat(v.Num, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return s
}

// quoteString writes s as a single-quoted literal the lexer reads back.
func quoteString(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\'', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		default:
			if c < 0x20 || c == 0x7f {
				b.WriteString(`\x`)
				b.WriteByte("0123456789abcdef"[c>>4])
				b.WriteByte("0123456789abcdef"[c&15])
			} else {
				b.WriteByte(c)
			}
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// Compare orders a and b by the AMPS comparison rules. ok is false when the
// comparison is unknown: either side NULL, or a NaN involved. Two strings
// compare byte-wise; a string against a number or boolean is converted to a
// number, and when that fails the string is the greater; booleans compare
// as 1 and 0.
func Compare(a, b Value) (c int, ok bool) {
	if a.Kind == Null || b.Kind == Null {
		return 0, false
	}
	if a.Kind == String && b.Kind == String {
		return strings.Compare(a.Str, b.Str), true
	}
	if a.Kind == String {
		n, ok := parseNumber(a.Str)
		if !ok {
			return 1, true
		}
		a = n
	} else if a.Kind == Bool {
		a = a.AsNumber()
	}
	if b.Kind == String {
		n, ok := parseNumber(b.Str)
		if !ok {
			return -1, true
		}
		b = n
	} else if b.Kind == Bool {
		b = b.AsNumber()
	}
	x, y := a.Num, b.Num
	switch {
	case math.IsNaN(x) || math.IsNaN(y):
		return 0, false
	case x < y:
		return -1, true
	case x > y:
		return 1, true
	}
	return 0, true
}

// arith applies + - * / % to two values with the AMPS promotion rules:
// NULL operand → NULL; NaN operand → NaN; any double → double; otherwise
// integer arithmetic, so 1 / 5 = 0. Integer division or modulo by zero
// gives NaN.
func arith(op byte, a, b Value) Value {
	if a.Kind == Null || b.Kind == Null {
		return NullValue
	}
	a, b = a.AsNumber(), b.AsNumber()
	if math.IsNaN(a.Num) || math.IsNaN(b.Num) {
		return NumberValue(math.NaN())
	}
	if a.IsInt && b.IsInt {
		x, y := int64(a.Num), int64(b.Num)
		switch op {
		case '+':
			return IntValue(x + y)
		case '-':
			return IntValue(x - y)
		case '*':
			return IntValue(x * y)
		case '/':
			if y == 0 {
				return NumberValue(math.NaN())
			}
			if x == math.MinInt64 && y == -1 {
				return NumberValue(-float64(x))
			}
			return IntValue(x / y)
		case '%':
			if y == 0 {
				return NumberValue(math.NaN())
			}
			if y == -1 {
				return IntValue(0)
			}
			return IntValue(x % y)
		}
	}
	x, y := a.Num, b.Num
	switch op {
	case '+':
		return NumberValue(x + y)
	case '-':
		return NumberValue(x - y)
	case '*':
		return NumberValue(x * y)
	case '/':
		return NumberValue(x / y)
	default:
		return NumberValue(math.Mod(x, y))
	}
}
