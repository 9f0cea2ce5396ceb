package filter

import (
	"bytes"
	"math"
	"regexp"
	"strings"
)

// node is one compiled expression node. eval may return strings that alias
// doc; the public entry points copy what escapes.
type node interface {
	eval(doc []byte) Value
	// test is the node's truth as a condition: truthOf(eval(doc)), computed
	// without building a Value where the node is a predicate.
	test(doc []byte) tri
	// write appends the canonical text of the node.
	write(b *strings.Builder)
	prec() int
	kids() []node
}

// Precedence levels, loosest first; used to print minimal parentheses.
const (
	precOr = iota + 1
	precAnd
	precNot
	precPred
	precSum
	precProd
	precUnary
	precPrim
)

func writeChild(b *strings.Builder, n node, min int) {
	if n.prec() < min {
		b.WriteByte('(')
		n.write(b)
		b.WriteByte(')')
		return
	}
	n.write(b)
}

// tri is a three-valued truth value.
type tri uint8

const (
	triNull tri = iota
	triFalse
	triTrue
)

func (t tri) value() Value {
	switch t {
	case triTrue:
		return BoolValue(true)
	case triFalse:
		return BoolValue(false)
	}
	return NullValue
}

func truthOf(v Value) tri {
	b, ok := v.Truth()
	switch {
	case !ok:
		return triNull
	case b:
		return triTrue
	}
	return triFalse
}

func boolTri(b bool) tri {
	if b {
		return triTrue
	}
	return triFalse
}

func (t tri) not() tri {
	switch t {
	case triTrue:
		return triFalse
	case triFalse:
		return triTrue
	}
	return triNull
}

// anyOf applies pred to every value n reaches (each array element when n is
// a field holding an array, else n's value) and combines the results as the
// AMPS "any element matches" rule: TRUE if any is TRUE, else FALSE if any is
// FALSE, else NULL.
func anyOf(n node, doc []byte, pred func(Value) tri) tri {
	p, ok := n.(*pathNode)
	if !ok {
		return pred(n.eval(doc))
	}
	raw, fan := p.path.resolve(doc)
	if !fan && (len(raw) == 0 || raw[0] != '[') {
		// The common case: one scalar, no array to iterate.
		return pred(scalarOf(raw, true))
	}
	res := triNull
	p.path.each(doc, func(v Value) bool {
		switch pred(v) {
		case triTrue:
			res = triTrue
			return true
		case triFalse:
			res = triFalse
		}
		return false
	})
	return res
}

// ---- leaves ----

type litNode struct {
	v   Value
	src string // canonical text
}

func (n *litNode) eval([]byte) Value        { return n.v }
func (n *litNode) write(b *strings.Builder) { b.WriteString(n.src) }
func (n *litNode) test(doc []byte) tri      { return truthOf(n.eval(doc)) }
func (n *litNode) prec() int                { return precPrim }
func (n *litNode) kids() []node             { return nil }

func newLit(v Value) *litNode {
	src := v.String()
	if v.Kind == Number && !v.IsInt {
		switch {
		case math.IsInf(v.Num, 1):
			src = "1e999"
		case math.IsInf(v.Num, -1):
			src = "-1e999"
		case math.IsNaN(v.Num):
			src = "NAN_VALUE()"
		}
	}
	if v.Kind == String && v.Str == "" {
		// AMPS treats the empty string as NULL.
		return &litNode{v: NullValue, src: "''"}
	}
	return &litNode{v: v, src: src}
}

type pathNode struct{ path Path }

func (n *pathNode) eval(doc []byte) Value    { return n.path.lookup(doc) }
func (n *pathNode) write(b *strings.Builder) { b.WriteString(n.path.String()) }
func (n *pathNode) test(doc []byte) tri      { return truthOf(n.eval(doc)) }
func (n *pathNode) prec() int                { return precPrim }
func (n *pathNode) kids() []node             { return nil }

// ---- arithmetic ----

type negNode struct{ x node }

func (n *negNode) eval(doc []byte) Value {
	v := n.x.eval(doc)
	if v.Kind == Null {
		return v
	}
	v = v.AsNumber()
	if v.IsInt {
		return IntValue(-int64(v.Num))
	}
	return NumberValue(-v.Num)
}
func (n *negNode) write(b *strings.Builder) {
	b.WriteByte('-')
	writeChild(b, n.x, precUnary)
}
func (n *negNode) test(doc []byte) tri { return truthOf(n.eval(doc)) }
func (n *negNode) prec() int           { return precUnary }
func (n *negNode) kids() []node        { return []node{n.x} }

type arithNode struct {
	op   byte // + - * / %
	l, r node
}

func (n *arithNode) eval(doc []byte) Value {
	return arith(n.op, n.l.eval(doc), n.r.eval(doc))
}
func (n *arithNode) write(b *strings.Builder) {
	p := n.prec()
	writeChild(b, n.l, p)
	b.WriteByte(' ')
	b.WriteByte(n.op)
	b.WriteByte(' ')
	writeChild(b, n.r, p+1)
}
func (n *arithNode) test(doc []byte) tri { return truthOf(n.eval(doc)) }
func (n *arithNode) prec() int {
	if n.op == '+' || n.op == '-' {
		return precSum
	}
	return precProd
}
func (n *arithNode) kids() []node { return []node{n.l, n.r} }

// ---- logic ----

type notNode struct{ x node }

func (n *notNode) eval(doc []byte) Value { return n.test(doc).value() }
func (n *notNode) test(doc []byte) tri   { return n.x.test(doc).not() }
func (n *notNode) write(b *strings.Builder) {
	b.WriteString("NOT ")
	writeChild(b, n.x, precNot)
}
func (n *notNode) prec() int    { return precNot }
func (n *notNode) kids() []node { return []node{n.x} }

// andNode and orNode follow the AMPS tables, which are biased to the left
// operand: a NULL left operand gives NULL whatever the right one is, and the
// right operand is evaluated only when the left one does not decide.
type andNode struct{ l, r node }

func (n *andNode) eval(doc []byte) Value { return n.test(doc).value() }
func (n *andNode) test(doc []byte) tri {
	if l := n.l.test(doc); l != triTrue {
		return l
	}
	return n.r.test(doc)
}
func (n *andNode) write(b *strings.Builder) {
	writeChild(b, n.l, precAnd)
	b.WriteString(" AND ")
	writeChild(b, n.r, precAnd+1)
}
func (n *andNode) prec() int    { return precAnd }
func (n *andNode) kids() []node { return []node{n.l, n.r} }

type orNode struct{ l, r node }

func (n *orNode) eval(doc []byte) Value { return n.test(doc).value() }
func (n *orNode) test(doc []byte) tri {
	if l := n.l.test(doc); l != triFalse {
		return l
	}
	return n.r.test(doc)
}
func (n *orNode) write(b *strings.Builder) {
	writeChild(b, n.l, precOr)
	b.WriteString(" OR ")
	writeChild(b, n.r, precOr+1)
}
func (n *orNode) prec() int    { return precOr }
func (n *orNode) kids() []node { return []node{n.l, n.r} }

// ---- predicates ----

type cmpOp uint8

const (
	opEq cmpOp = iota
	opNe
	opLt
	opLe
	opGt
	opGe
)

var cmpText = [...]string{"=", "!=", "<", "<=", ">", ">="}

func cmpTri(op cmpOp, a, b Value) tri {
	c, ok := Compare(a, b)
	if !ok {
		return triNull
	}
	switch op {
	case opEq:
		return boolTri(c == 0)
	case opNe:
		return boolTri(c != 0)
	case opLt:
		return boolTri(c < 0)
	case opLe:
		return boolTri(c <= 0)
	case opGt:
		return boolTri(c > 0)
	}
	return boolTri(c >= 0)
}

type cmpNode struct {
	op   cmpOp
	l, r node
	// rPath is set when the right operand is a field, so that an array
	// there also matches element-wise.
	rPath *pathNode
	// lPath and rNum are set for "/field op number-literal".
	lPath *pathNode
	rNum  *Value
}

func (n *cmpNode) eval(doc []byte) Value { return n.test(doc).value() }
func (n *cmpNode) test(doc []byte) tri {
	if n.lPath != nil && n.rNum != nil {
		// Fast path for "/field op number" when the field holds a plain
		// JSON number.
		raw, fan := n.lPath.path.resolve(doc)
		if !fan && len(raw) > 0 && (raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9') {
			return cmpTri(n.op, parseJSONNumber(raw), *n.rNum)
		}
	}
	if n.rPath == nil {
		r := n.r.eval(doc)
		return anyOf(n.l, doc, func(l Value) tri { return cmpTri(n.op, l, r) })
	}
	return anyOf(n.l, doc, func(l Value) tri {
		return anyOf(n.r, doc, func(r Value) tri { return cmpTri(n.op, l, r) })
	})
}
func (n *cmpNode) write(b *strings.Builder) {
	writeChild(b, n.l, precSum)
	b.WriteByte(' ')
	b.WriteString(cmpText[n.op])
	b.WriteByte(' ')
	writeChild(b, n.r, precSum)
}
func (n *cmpNode) prec() int    { return precPred }
func (n *cmpNode) kids() []node { return []node{n.l, n.r} }

type betweenNode struct {
	x, lo, hi node
	not       bool
}

func (n *betweenNode) eval(doc []byte) Value { return n.test(doc).value() }
func (n *betweenNode) test(doc []byte) tri {
	lo, hi := n.lo.eval(doc), n.hi.eval(doc)
	t := anyOf(n.x, doc, func(v Value) tri {
		a, ok1 := Compare(v, lo)
		b, ok2 := Compare(v, hi)
		if !ok1 || !ok2 {
			return triNull
		}
		return boolTri(a >= 0 && b <= 0)
	})
	if n.not {
		t = t.not()
	}
	return t
}
func (n *betweenNode) write(b *strings.Builder) {
	writeChild(b, n.x, precSum)
	if n.not {
		b.WriteString(" NOT")
	}
	b.WriteString(" BETWEEN ")
	writeChild(b, n.lo, precSum)
	b.WriteString(" AND ")
	writeChild(b, n.hi, precSum)
}
func (n *betweenNode) prec() int    { return precPred }
func (n *betweenNode) kids() []node { return []node{n.x, n.lo, n.hi} }

func writeList(b *strings.Builder, list []node) {
	b.WriteByte('(')
	for i, e := range list {
		if i > 0 {
			b.WriteString(", ")
		}
		writeChild(b, e, precOr)
	}
	b.WriteByte(')')
}

// inNode is x [NOT] IN (list). A NULL x gives NULL (so NOT IN does not
// match either); NULL list elements never equal anything.
type inNode struct {
	x    node
	list []node
	// lits holds the list's values when every element is a literal, so the
	// common case evaluates nothing per message.
	lits []Value
	not  bool
	// xPath and strs are set when x is a field and every list element is
	// a non-empty string literal.
	xPath *pathNode
	strs  []string
}

func (n *inNode) eval(doc []byte) Value { return n.test(doc).value() }
func (n *inNode) test(doc []byte) tri {
	if n.xPath != nil && n.strs != nil {
		// Fast path for the common "/field IN ('a', 'b')": compare the raw
		// string bytes, without building Values.
		raw, fan := n.xPath.path.resolve(doc)
		if !fan && len(raw) > 2 && raw[0] == '"' && raw[len(raw)-1] == '"' {
			body := raw[1 : len(raw)-1]
			if bytes.IndexByte(body, '\\') < 0 {
				hit := false
				for _, s := range n.strs {
					if string(body) == s {
						hit = true
						break
					}
				}
				return boolTri(hit != n.not)
			}
		}
	}
	t := anyOf(n.x, doc, func(v Value) tri {
		if v.Kind == Null {
			return triNull
		}
		if n.lits != nil {
			for _, e := range n.lits {
				if v.Kind == String && e.Kind == String {
					if v.Str == e.Str {
						return triTrue
					}
					continue
				}
				if c, ok := Compare(v, e); ok && c == 0 {
					return triTrue
				}
			}
			return triFalse
		}
		for _, e := range n.list {
			if c, ok := Compare(v, e.eval(doc)); ok && c == 0 {
				return triTrue
			}
		}
		return triFalse
	})
	if n.not {
		t = t.not()
	}
	return t
}
func (n *inNode) write(b *strings.Builder) {
	writeChild(b, n.x, precSum)
	if n.not {
		b.WriteString(" NOT")
	}
	b.WriteString(" IN ")
	writeList(b, n.list)
}
func (n *inNode) prec() int    { return precPred }
func (n *inNode) kids() []node { return append([]node{n.x}, n.list...) }

// likeNode is x [NOT] LIKE 'regex'. The pattern is a literal compiled once.
type likeNode struct {
	x   node
	pat string
	re  *regexp.Regexp
	not bool
}

func (n *likeNode) eval(doc []byte) Value { return n.test(doc).value() }
func (n *likeNode) test(doc []byte) tri {
	t := anyOf(n.x, doc, func(v Value) tri {
		if v.Kind == Null {
			return triNull
		}
		return boolTri(n.re.MatchString(v.Text()))
	})
	if n.not {
		t = t.not()
	}
	return t
}
func (n *likeNode) write(b *strings.Builder) {
	writeChild(b, n.x, precSum)
	if n.not {
		b.WriteString(" NOT")
	}
	b.WriteString(" LIKE ")
	b.WriteString(quoteString(n.pat))
}
func (n *likeNode) prec() int    { return precPred }
func (n *likeNode) kids() []node { return []node{n.x} }

// affixNode is x [NOT] BEGINS WITH (…) or x [NOT] ENDS WITH (…).
type affixNode struct {
	x      node
	list   []node
	suffix bool
	not    bool
}

func (n *affixNode) eval(doc []byte) Value { return n.test(doc).value() }
func (n *affixNode) test(doc []byte) tri {
	t := anyOf(n.x, doc, func(v Value) tri {
		if v.Kind == Null {
			return triNull
		}
		s := v.Text()
		for _, e := range n.list {
			a := e.eval(doc)
			if a.Kind == Null {
				continue
			}
			if n.suffix && strings.HasSuffix(s, a.Text()) || !n.suffix && strings.HasPrefix(s, a.Text()) {
				return triTrue
			}
		}
		return triFalse
	})
	if n.not {
		t = t.not()
	}
	return t
}
func (n *affixNode) write(b *strings.Builder) {
	writeChild(b, n.x, precSum)
	if n.not {
		b.WriteString(" NOT")
	}
	if n.suffix {
		b.WriteString(" ENDS WITH ")
	} else {
		b.WriteString(" BEGINS WITH ")
	}
	writeList(b, n.list)
}
func (n *affixNode) prec() int    { return precPred }
func (n *affixNode) kids() []node { return append([]node{n.x}, n.list...) }

// isNode is x IS [NOT] NULL or x IS [NOT] NAN. These are always TRUE or
// FALSE, never NULL.
type isNode struct {
	x   node
	nan bool
	not bool
}

func (n *isNode) test(doc []byte) tri { return truthOf(n.eval(doc)) }
func (n *isNode) eval(doc []byte) Value {
	v := n.x.eval(doc)
	var r bool
	if n.nan {
		r = v.IsNaN()
	} else {
		r = v.Kind == Null
	}
	return BoolValue(r != n.not)
}
func (n *isNode) write(b *strings.Builder) {
	writeChild(b, n.x, precSum)
	b.WriteString(" IS ")
	if n.not {
		b.WriteString("NOT ")
	}
	if n.nan {
		b.WriteString("NAN")
	} else {
		b.WriteString("NULL")
	}
}
func (n *isNode) prec() int    { return precPred }
func (n *isNode) kids() []node { return []node{n.x} }
