package filter

import (
	"regexp"
	"strings"
	"time"
)

// maxDepth bounds nesting so that hostile input cannot exhaust the stack.
const maxDepth = 200

type parser struct {
	opts  Options
	lx    lexer
	tok   token
	depth int
}

func parse(src string, opts Options) (node, error) {
	p := &parser{lx: lexer{src: src}, opts: opts}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind == tEOF {
		return nil, &SyntaxError{Pos: 0, Msg: "empty expression"}
	}
	n, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tEOF {
		return nil, p.unexpected()
	}
	return n, nil
}

func (p *parser) advance() error {
	t, err := p.lx.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

func (p *parser) isWord(w string) bool  { return p.tok.kind == tWord && p.tok.text == w }
func (p *parser) isPunct(s string) bool { return p.tok.kind == tPunct && p.tok.text == s }

func (p *parser) unexpected() error {
	if p.tok.kind == tEOF {
		return &SyntaxError{Pos: p.tok.pos, Msg: "unexpected end of expression"}
	}
	return &SyntaxError{Pos: p.tok.pos, Msg: "unexpected " + quoteTok(p.tok)}
}

func quoteTok(t token) string {
	if t.kind == tEOF {
		return "end of expression"
	}
	return "'" + t.text + "'"
}

func (p *parser) expectPunct(s string) error {
	if !p.isPunct(s) {
		return &SyntaxError{Pos: p.tok.pos, Msg: "expected '" + s + "', found " + quoteTok(p.tok)}
	}
	return p.advance()
}

func (p *parser) expectWord(w string) error {
	if !p.isWord(w) {
		return &SyntaxError{Pos: p.tok.pos, Msg: "expected " + w + ", found " + quoteTok(p.tok)}
	}
	return p.advance()
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return &SyntaxError{Pos: p.tok.pos, Msg: "expression nested too deeply"}
	}
	return nil
}

func (p *parser) parseOr() (node, error) {
	l, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	for p.isWord("OR") {
		if err := p.advance(); err != nil {
			return nil, err
		}
		r, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		l = &orNode{l: l, r: r}
	}
	return l, nil
}

func (p *parser) parseAnd() (node, error) {
	l, err := p.parseNot()
	if err != nil {
		return nil, err
	}
	for p.isWord("AND") {
		if err := p.advance(); err != nil {
			return nil, err
		}
		r, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		l = &andNode{l: l, r: r}
	}
	return l, nil
}

func (p *parser) parseNot() (node, error) {
	if p.isWord("NOT") {
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer func() { p.depth-- }()
		if err := p.advance(); err != nil {
			return nil, err
		}
		x, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		return &notNode{x: x}, nil
	}
	return p.parsePred()
}

var cmpOps = map[string]cmpOp{
	"=": opEq, "==": opEq, "!=": opNe, "<>": opNe,
	"<": opLt, "<=": opLe, ">": opGt, ">=": opGe,
}

func (p *parser) parsePred() (node, error) {
	x, err := p.parseSum()
	if err != nil {
		return nil, err
	}
	if p.tok.kind == tPunct {
		op, ok := cmpOps[p.tok.text]
		if !ok {
			return x, nil
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		r, err := p.parseSum()
		if err != nil {
			return nil, err
		}
		n := &cmpNode{op: op, l: x, r: r}
		n.rPath, _ = r.(*pathNode)
		n.lPath, _ = x.(*pathNode)
		if l, ok := r.(*litNode); ok && l.v.Kind == Number {
			n.rNum = &l.v
		}
		return n, nil
	}
	if p.tok.kind != tWord {
		return x, nil
	}
	not := false
	if p.isWord("NOT") {
		notPos := p.tok.pos
		if err := p.advance(); err != nil {
			return nil, err
		}
		switch {
		case p.isWord("BETWEEN"), p.isWord("IN"), p.isWord("LIKE"), p.isWord("BEGINS"), p.isWord("ENDS"):
			not = true
		default:
			return nil, &SyntaxError{Pos: notPos, Msg: "NOT here must be followed by BETWEEN, IN, LIKE, BEGINS WITH or ENDS WITH"}
		}
	}
	switch p.tok.text {
	case "BETWEEN":
		if err := p.advance(); err != nil {
			return nil, err
		}
		lo, err := p.parseSum()
		if err != nil {
			return nil, err
		}
		if err := p.expectWord("AND"); err != nil {
			return nil, err
		}
		hi, err := p.parseSum()
		if err != nil {
			return nil, err
		}
		return &betweenNode{x: x, lo: lo, hi: hi, not: not}, nil
	case "IN":
		if err := p.advance(); err != nil {
			return nil, err
		}
		list, err := p.parseList(true)
		if err != nil {
			return nil, err
		}
		n := &inNode{x: x, list: list, not: not}
		lits := make([]Value, 0, len(list))
		for _, e := range list {
			l, ok := e.(*litNode)
			if !ok {
				lits = nil
				break
			}
			lits = append(lits, l.v)
		}
		n.lits = lits
		if xp, ok := x.(*pathNode); ok && lits != nil {
			strs := make([]string, 0, len(lits))
			for _, v := range lits {
				if v.Kind != String {
					strs = nil
					break
				}
				strs = append(strs, v.Str)
			}
			if strs != nil {
				n.xPath, n.strs = xp, strs
			}
		}
		return n, nil
	case "LIKE":
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.tok.kind != tString {
			return nil, &SyntaxError{Pos: p.tok.pos, Msg: "LIKE needs a string literal pattern"}
		}
		re, err := regexp.Compile(p.tok.str)
		if err != nil {
			return nil, &SyntaxError{Pos: p.tok.pos, Msg: "bad LIKE pattern: " + err.Error()}
		}
		pat := p.tok.str
		if err := p.advance(); err != nil {
			return nil, err
		}
		return &likeNode{x: x, pat: pat, re: re, not: not}, nil
	case "BEGINS", "ENDS":
		suffix := p.tok.text == "ENDS"
		if err := p.advance(); err != nil {
			return nil, err
		}
		if err := p.expectWord("WITH"); err != nil {
			return nil, err
		}
		var list []node
		if p.isPunct("(") {
			list, err = p.parseList(false)
		} else {
			var e node
			e, err = p.parseSum()
			list = []node{e}
		}
		if err != nil {
			return nil, err
		}
		return &affixNode{x: x, list: list, suffix: suffix, not: not}, nil
	case "IS":
		if err := p.advance(); err != nil {
			return nil, err
		}
		n := &isNode{x: x}
		if p.isWord("NOT") {
			n.not = true
			if err := p.advance(); err != nil {
				return nil, err
			}
		}
		switch {
		case p.isWord("NULL"):
		case p.isWord("NAN"):
			n.nan = true
		default:
			return nil, &SyntaxError{Pos: p.tok.pos, Msg: "expected NULL or NAN after IS, found " + quoteTok(p.tok)}
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		return n, nil
	}
	return x, nil
}

// parseList reads '(' expr {',' expr} ')'.
func (p *parser) parseList(allowEmpty bool) ([]node, error) {
	if err := p.expectPunct("("); err != nil {
		return nil, err
	}
	var list []node
	if p.isPunct(")") {
		if !allowEmpty {
			return nil, &SyntaxError{Pos: p.tok.pos, Msg: "empty list"}
		}
		return list, p.advance()
	}
	for {
		e, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		list = append(list, e)
		if p.isPunct(",") {
			if err := p.advance(); err != nil {
				return nil, err
			}
			continue
		}
		if err := p.expectPunct(")"); err != nil {
			return nil, err
		}
		return list, nil
	}
}

func (p *parser) parseSum() (node, error) {
	l, err := p.parseProd()
	if err != nil {
		return nil, err
	}
	for p.isPunct("+") || p.isPunct("-") {
		op := p.tok.text[0]
		if err := p.advance(); err != nil {
			return nil, err
		}
		r, err := p.parseProd()
		if err != nil {
			return nil, err
		}
		l = &arithNode{op: op, l: l, r: r}
	}
	return l, nil
}

func (p *parser) parseProd() (node, error) {
	l, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	for p.isPunct("*") || p.isPunct("/") || p.isPunct("%") || p.isWord("MOD") {
		op := p.tok.text[0]
		if op == 'M' {
			op = '%'
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		r, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		l = &arithNode{op: op, l: l, r: r}
	}
	return l, nil
}

func (p *parser) parseUnary() (node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	if p.isPunct("-") || p.isPunct("+") {
		neg := p.tok.text == "-"
		if err := p.advance(); err != nil {
			return nil, err
		}
		x, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		if !neg {
			return x, nil
		}
		return &negNode{x: x}, nil
	}
	return p.parsePrim()
}

func (p *parser) parsePrim() (node, error) {
	t := p.tok
	switch t.kind {
	case tPath:
		return &pathNode{path: t.path}, p.advance()
	case tInt, tFloat:
		return newLit(t.num), p.advance()
	case tString:
		return newLit(StringValue(t.str)), p.advance()
	case tPunct:
		if t.text == "(" {
			if err := p.advance(); err != nil {
				return nil, err
			}
			x, err := p.parseOr()
			if err != nil {
				return nil, err
			}
			return x, p.expectPunct(")")
		}
	case tWord:
		switch t.text {
		case "NULL":
			return &litNode{v: NullValue, src: "NULL"}, p.advance()
		case "TRUE":
			return newLit(BoolValue(true)), p.advance()
		case "FALSE":
			return newLit(BoolValue(false)), p.advance()
		}
		if p.nextIsParen() {
			return p.parseCall()
		}
		if reserved[t.text] {
			return nil, &SyntaxError{Pos: t.pos, Msg: "expected an operand, found keyword " + t.text}
		}
		return nil, &SyntaxError{Pos: t.pos, Msg: "unknown name " + quoteTok(t) + " (fields start with '/')"}
	case tEOF:
		return nil, &SyntaxError{Pos: t.pos, Msg: "expected an operand, found end of expression"}
	}
	return nil, &SyntaxError{Pos: t.pos, Msg: "expected an operand, found " + quoteTok(t)}
}

var reserved = map[string]bool{
	"AND": true, "OR": true, "NOT": true, "IN": true, "BETWEEN": true, "LIKE": true,
	"BEGINS": true, "ENDS": true, "WITH": true, "IS": true, "NAN": true, "MOD": true,
}

// nextIsParen reports whether the next non-blank character is '(' (a
// function call), without consuming anything.
func (p *parser) nextIsParen() bool {
	s := p.lx.src
	i := p.lx.pos
	for i < len(s) && (isWS(s[i]) || s[i] == '\f' || s[i] == '\v') {
		i++
	}
	return i < len(s) && s[i] == '('
}

func (p *parser) parseCall() (node, error) {
	name := p.tok.text
	pos := p.tok.pos
	def, ok := funcs[name]
	if !ok {
		if aggregateNames[name] {
			return nil, &SyntaxError{Pos: pos, Msg: "aggregate function " + name + " is only allowed in an aggregation projection"}
		}
		return nil, &SyntaxError{Pos: pos, Msg: "unknown function " + strings.ToUpper(name)}
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	args, err := p.parseList(true)
	if err != nil {
		return nil, err
	}
	if len(args) < def.min || (def.max >= 0 && len(args) > def.max) {
		return nil, &SyntaxError{Pos: pos, Msg: "wrong number of arguments to " + name + ": " + def.arity()}
	}
	c := &callNode{def: def, args: args}
	if def.volatile {
		c.now = p.opts.Now
		if c.now == nil {
			c.now = time.Now
		}
	}
	if def.check != nil {
		if err := def.check(c); err != nil {
			return nil, &SyntaxError{Pos: pos, Msg: name + ": " + err.Error()}
		}
	}
	return c, nil
}

// aggregateNames are recognised only to give a clear error: aggregation is
// evaluated by the aggregation engine, not inside a filter.
var aggregateNames = map[string]bool{
	"AVG": true, "SUM": true, "COUNT": true, "MIN": true, "MAX": true,
	"COUNT_DISTINCT": true, "GROUP_CONCAT": true, "STDDEV_POP": true,
	"STDDEV_SAMP": true, "ANY": true, "UNIQUE": true,
}
