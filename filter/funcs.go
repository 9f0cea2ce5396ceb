package filter

import (
	"errors"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// funcDef describes one built-in function. Functions evaluate their own
// arguments so that IF and COALESCE evaluate only what they need and no
// argument slice is allocated per call.
type funcDef struct {
	name     string
	min, max int // max < 0: any number
	fn       func(c *callNode, doc []byte) Value
	// check validates arguments at compile time (e.g. literal patterns).
	check func(c *callNode) error
	// volatile functions depend on more than the document (the clock).
	volatile bool
}

func (d *funcDef) arity() string {
	switch {
	case d.min == d.max:
		return "expects " + strconv.Itoa(d.min)
	case d.max < 0:
		return "expects at least " + strconv.Itoa(d.min)
	}
	return "expects " + strconv.Itoa(d.min) + " to " + strconv.Itoa(d.max)
}

type callNode struct {
	def  *funcDef
	args []node
	// re is the compiled pattern of a REGEXP_* call whose pattern is a
	// literal; dyn caches the last non-literal pattern.
	re  *regexp.Regexp
	dyn atomic.Pointer[cachedRE]
	// now is the clock of a volatile function.
	now func() time.Time
}

type cachedRE struct {
	pat string
	re  *regexp.Regexp
}

func (c *callNode) eval(doc []byte) Value { return c.def.fn(c, doc) }
func (c *callNode) test(doc []byte) tri   { return truthOf(c.eval(doc)) }
func (c *callNode) write(b *strings.Builder) {
	b.WriteString(c.def.name)
	writeList(b, c.args)
}
func (c *callNode) prec() int    { return precPrim }
func (c *callNode) kids() []node { return c.args }

// arg evaluates argument i (first element of an array, per AMPS).
func (c *callNode) arg(i int, doc []byte) Value { return c.args[i].eval(doc) }

// regexpFor returns the compiled pattern of argument i.
func (c *callNode) regexpFor(i int, doc []byte) *regexp.Regexp {
	if c.re != nil {
		return c.re
	}
	v := c.arg(i, doc)
	if v.Kind == Null {
		return nil
	}
	pat := v.Text()
	if last := c.dyn.Load(); last != nil && last.pat == pat {
		return last.re
	}
	re, err := regexp.Compile(pat)
	if err != nil {
		return nil
	}
	c.dyn.Store(&cachedRE{pat: strings.Clone(pat), re: re})
	return re
}

// strResult makes a String, except that the empty string is NULL in AMPS.
func strResult(s string) Value {
	if s == "" {
		return NullValue
	}
	return StringValue(s)
}

func nan() Value { return NumberValue(math.NaN()) }

// intArg returns argument i as an integer; ok is false for NULL or NaN.
func (c *callNode) intArg(i int, doc []byte) (int, bool) {
	v := c.arg(i, doc).AsNumber()
	if v.Kind == Null || math.IsNaN(v.Num) {
		return 0, false
	}
	f := math.Trunc(v.Num)
	if f > 1<<40 {
		f = 1 << 40
	}
	if f < -(1 << 40) {
		f = -(1 << 40)
	}
	return int(f), true
}

func upperASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'a' && c <= 'z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'a' && b[j] <= 'z' {
					b[j] -= 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// str1 wraps a one-string-argument function: NULL in, NULL out.
func str1(f func(string) string) func(c *callNode, doc []byte) Value {
	return func(c *callNode, doc []byte) Value {
		v := c.arg(0, doc)
		if v.Kind == Null {
			return NullValue
		}
		return strResult(f(v.Text()))
	}
}

// num1 wraps a one-number-argument function: NULL in, NULL out; NaN in, NaN
// out; integers stay integers when keepInt and the result is integral.
func num1(f func(float64) float64, keepInt bool) func(c *callNode, doc []byte) Value {
	return func(c *callNode, doc []byte) Value {
		v := c.arg(0, doc).AsNumber()
		if v.Kind == Null {
			return NullValue
		}
		r := f(v.Num)
		if keepInt && v.IsInt && !math.IsNaN(r) && !math.IsInf(r, 0) {
			return Value{Kind: Number, Num: r, IsInt: true}
		}
		return NumberValue(r)
	}
}

func trimFunc(left, right bool) func(c *callNode, doc []byte) Value {
	return func(c *callNode, doc []byte) Value {
		v := c.arg(0, doc)
		if v.Kind == Null {
			return NullValue
		}
		cut := " \t\n\r\f\v"
		if len(c.args) > 1 {
			a := c.arg(1, doc)
			if a.Kind == Null {
				return v
			}
			cut = a.Text()
		}
		s := v.Text()
		if left {
			s = strings.TrimLeft(s, cut)
		}
		if right {
			s = strings.TrimRight(s, cut)
		}
		return strResult(s)
	}
}

func instr(fold bool) func(c *callNode, doc []byte) Value {
	return func(c *callNode, doc []byte) Value {
		s, sub := c.arg(0, doc), c.arg(1, doc)
		if s.Kind == Null || sub.Kind == Null {
			return NullValue
		}
		a, b := s.Text(), sub.Text()
		if fold {
			a, b = lowerASCII(a), lowerASCII(b)
		}
		return IntValue(int64(strings.Index(a, b) + 1))
	}
}

// extremum implements GREATEST and LEAST: NULL arguments are ignored.
func extremum(sign int) func(c *callNode, doc []byte) Value {
	return func(c *callNode, doc []byte) Value {
		best := NullValue
		for i := range c.args {
			v := c.arg(i, doc)
			if v.Kind == Null {
				continue
			}
			if best.Kind == Null {
				best = v
				continue
			}
			if r, ok := Compare(v, best); ok && r*sign > 0 {
				best = v
			}
		}
		return best
	}
}

func roundHalfAway(x float64, places int) float64 {
	if places == 0 {
		return math.Round(x)
	}
	p := math.Pow(10, float64(places))
	r := math.Round(x*p) / p
	if math.IsInf(x*p, 0) {
		return x
	}
	return r
}

var errLiteralPattern = errors.New("bad regular expression")

func checkPattern(i int) func(c *callNode) error {
	return func(c *callNode) error {
		l, ok := c.args[i].(*litNode)
		if !ok {
			return nil
		}
		if l.v.Kind == Null {
			return nil
		}
		re, err := regexp.Compile(l.v.Text())
		if err != nil {
			return errors.Join(errLiteralPattern, err)
		}
		c.re = re
		return nil
	}
}

var funcs = map[string]*funcDef{}

func register(d *funcDef) { funcs[d.name] = d }

func init() {
	// Strings. UPPER and LOWER change ASCII letters only, as AMPS does.
	register(&funcDef{name: "UPPER", min: 1, max: 1, fn: str1(upperASCII)})
	register(&funcDef{name: "LOWER", min: 1, max: 1, fn: str1(lowerASCII)})
	register(&funcDef{name: "REVERSE", min: 1, max: 1, fn: str1(func(s string) string {
		b := []byte(s)
		for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
			b[i], b[j] = b[j], b[i]
		}
		return string(b)
	})})
	register(&funcDef{name: "LENGTH", min: 1, max: 1, fn: func(c *callNode, doc []byte) Value {
		v := c.arg(0, doc)
		if v.Kind == Null {
			return NullValue
		}
		return IntValue(int64(len(v.Text())))
	}})
	register(&funcDef{name: "TRIM", min: 1, max: 2, fn: trimFunc(true, true)})
	register(&funcDef{name: "LTRIM", min: 1, max: 2, fn: trimFunc(true, false)})
	register(&funcDef{name: "RTRIM", min: 1, max: 2, fn: trimFunc(false, true)})
	register(&funcDef{name: "INSTR", min: 2, max: 2, fn: instr(false)})
	register(&funcDef{name: "INSTR_I", min: 2, max: 2, fn: instr(true)})
	register(&funcDef{name: "STREQUAL_I", min: 2, max: 2, fn: func(c *callNode, doc []byte) Value {
		a, b := c.arg(0, doc), c.arg(1, doc)
		if a.Kind == Null || b.Kind == Null {
			return NullValue
		}
		return BoolValue(strings.EqualFold(a.Text(), b.Text()))
	}})
	register(&funcDef{name: "CONCAT", min: 1, max: -1, fn: func(c *callNode, doc []byte) Value {
		var b strings.Builder
		for i := range c.args {
			b.WriteString(c.arg(i, doc).Text())
		}
		return strResult(b.String())
	}})
	// SUBSTR(s, start[, len]): start is 1-based, negative counts from the
	// end, 0 is taken as 1; a missing or oversize length runs to the end.
	register(&funcDef{name: "SUBSTR", min: 2, max: 3, fn: func(c *callNode, doc []byte) Value {
		v := c.arg(0, doc)
		start, ok := c.intArg(1, doc)
		if v.Kind == Null || !ok {
			return NullValue
		}
		s := v.Text()
		switch {
		case start < 0:
			start = len(s) + start
			if start < 0 {
				start = 0
			}
		case start > 0:
			start--
		}
		if start >= len(s) {
			return NullValue
		}
		end := len(s)
		if len(c.args) > 2 {
			n, ok := c.intArg(2, doc)
			if !ok {
				return NullValue
			}
			if n <= 0 {
				return NullValue
			}
			if start+n < end {
				end = start + n
			}
		}
		return strResult(s[start:end])
	}})
	register(&funcDef{name: "LEFT", min: 2, max: 2, fn: func(c *callNode, doc []byte) Value {
		v := c.arg(0, doc)
		n, ok := c.intArg(1, doc)
		if v.Kind == Null || !ok {
			return NullValue
		}
		s := v.Text()
		n = max(0, min(n, len(s)))
		return strResult(s[:n])
	}})
	register(&funcDef{name: "RIGHT", min: 2, max: 2, fn: func(c *callNode, doc []byte) Value {
		v := c.arg(0, doc)
		n, ok := c.intArg(1, doc)
		if v.Kind == Null || !ok {
			return NullValue
		}
		s := v.Text()
		n = max(0, min(n, len(s)))
		return strResult(s[len(s)-n:])
	}})
	register(&funcDef{name: "REPLACE", min: 3, max: 3, fn: func(c *callNode, doc []byte) Value {
		v, from, to := c.arg(0, doc), c.arg(1, doc), c.arg(2, doc)
		if v.Kind == Null {
			return NullValue
		}
		if from.Kind == Null {
			return v
		}
		return strResult(strings.ReplaceAll(v.Text(), from.Text(), to.Text()))
	}})
	// REGEXP_MATCH(s, pattern) is TRUE when the pattern matches anywhere in
	// s; REGEXP_REPLACE(s, pattern, replacement) replaces every match, with
	// $1 or ${name} in the replacement naming groups.
	register(&funcDef{name: "REGEXP_MATCH", min: 2, max: 2, check: checkPattern(1),
		fn: func(c *callNode, doc []byte) Value {
			v := c.arg(0, doc)
			if v.Kind == Null {
				return NullValue
			}
			re := c.regexpFor(1, doc)
			if re == nil {
				return NullValue
			}
			return BoolValue(re.MatchString(v.Text()))
		}})
	register(&funcDef{name: "REGEXP_REPLACE", min: 3, max: 3, check: checkPattern(1),
		fn: func(c *callNode, doc []byte) Value {
			v := c.arg(0, doc)
			if v.Kind == Null {
				return NullValue
			}
			re := c.regexpFor(1, doc)
			if re == nil {
				return NullValue
			}
			return strResult(re.ReplaceAllString(v.Text(), c.arg(2, doc).Text()))
		}})
	register(&funcDef{name: "CHAR_VALUE", min: 1, max: 1, fn: func(c *callNode, doc []byte) Value {
		n, ok := c.intArg(0, doc)
		if !ok || n <= 0 || n > 255 {
			return NullValue
		}
		return StringValue(string([]byte{byte(n)}))
	}})

	// Conditionals.
	register(&funcDef{name: "COALESCE", min: 1, max: -1, fn: func(c *callNode, doc []byte) Value {
		for i := range c.args {
			if v := c.arg(i, doc); v.Kind != Null {
				return v
			}
		}
		return NullValue
	}})
	// IF(cond, a, b) evaluates only the branch it returns; a NULL condition
	// takes the else branch.
	register(&funcDef{name: "IF", min: 3, max: 3, fn: func(c *callNode, doc []byte) Value {
		if truthOf(c.arg(0, doc)) == triTrue {
			return c.arg(1, doc)
		}
		return c.arg(2, doc)
	}})
	register(&funcDef{name: "TRUE_VALUE", min: 0, max: 0, fn: func(*callNode, []byte) Value { return BoolValue(true) }})
	register(&funcDef{name: "FALSE_VALUE", min: 0, max: 0, fn: func(*callNode, []byte) Value { return BoolValue(false) }})
	register(&funcDef{name: "NAN_VALUE", min: 0, max: 0, fn: func(*callNode, []byte) Value { return nan() }})

	// Numbers.
	register(&funcDef{name: "ABS", min: 1, max: 1, fn: num1(math.Abs, true)})
	register(&funcDef{name: "CEILING", min: 1, max: 1, fn: num1(math.Ceil, true)})
	register(&funcDef{name: "FLOOR", min: 1, max: 1, fn: num1(math.Floor, true)})
	register(&funcDef{name: "SIGN", min: 1, max: 1, fn: func(c *callNode, doc []byte) Value {
		v := c.arg(0, doc).AsNumber()
		switch {
		case v.Kind == Null:
			return NullValue
		case math.IsNaN(v.Num):
			return v
		case v.Num > 0:
			return IntValue(1)
		case v.Num < 0:
			return IntValue(-1)
		}
		return IntValue(0)
	}})
	register(&funcDef{name: "SQRT", min: 1, max: 1, fn: num1(math.Sqrt, false)})
	register(&funcDef{name: "EXP", min: 1, max: 1, fn: num1(math.Exp, false)})
	register(&funcDef{name: "LN", min: 1, max: 1, fn: num1(math.Log, false)})
	register(&funcDef{name: "LOG10", min: 1, max: 1, fn: num1(math.Log10, false)})
	register(&funcDef{name: "SIN", min: 1, max: 1, fn: num1(math.Sin, false)})
	register(&funcDef{name: "COS", min: 1, max: 1, fn: num1(math.Cos, false)})
	register(&funcDef{name: "TAN", min: 1, max: 1, fn: num1(math.Tan, false)})
	register(&funcDef{name: "ASIN", min: 1, max: 1, fn: num1(math.Asin, false)})
	register(&funcDef{name: "ACOS", min: 1, max: 1, fn: num1(math.Acos, false)})
	register(&funcDef{name: "ATAN", min: 1, max: 1, fn: num1(math.Atan, false)})
	register(&funcDef{name: "POWER", min: 2, max: 2, fn: func(c *callNode, doc []byte) Value {
		a, b := c.arg(0, doc).AsNumber(), c.arg(1, doc).AsNumber()
		if a.Kind == Null || b.Kind == Null {
			return NullValue
		}
		return NumberValue(math.Pow(a.Num, b.Num))
	}})
	// ROUND(x[, places]) rounds half away from zero; integers stay integers.
	register(&funcDef{name: "ROUND", min: 1, max: 2, fn: func(c *callNode, doc []byte) Value {
		v := c.arg(0, doc).AsNumber()
		if v.Kind == Null {
			return NullValue
		}
		places := 0
		if len(c.args) > 1 {
			n, ok := c.intArg(1, doc)
			if !ok {
				return NullValue
			}
			places = max(-300, min(n, 300))
		}
		if v.IsInt && places >= 0 {
			return v
		}
		r := roundHalfAway(v.Num, places)
		if v.IsInt {
			return Value{Kind: Number, Num: r, IsInt: true}
		}
		return NumberValue(r)
	}})
	// UNIX_TIMESTAMP() is the current time in seconds since the Unix epoch,
	// as a double with microsecond resolution.
	register(&funcDef{name: "UNIX_TIMESTAMP", min: 0, max: 0, volatile: true,
		fn: func(c *callNode, _ []byte) Value {
			return NumberValue(float64(c.now().UnixMicro()) / 1e6)
		}})
	register(&funcDef{name: "GREATEST", min: 1, max: -1, fn: extremum(1)})
	register(&funcDef{name: "LEAST", min: 1, max: -1, fn: extremum(-1)})
}
