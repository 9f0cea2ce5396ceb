package filter

import (
	"strconv"
	"strings"
)

// step is one path step: a field name, or an array index when index >= 0.
type step struct {
	name  string
	index int
	plain bool // plainKey(name): the name can be compared to raw key bytes
}

// Path is a compiled identifier such as /a/b, /arr[0]/x or [/name with
// spaces]. The zero Path is the document root.
type Path struct {
	steps []step
}

// ParsePath compiles an identifier in any of the forms the expression
// language accepts: "/a/b", "/arr[0]", "[/name with spaces]".
func ParsePath(p string) (Path, error) {
	lx := lexer{src: p}
	tok, err := lx.lexPathAt(0)
	if err != nil {
		return Path{}, err
	}
	if lx.pos != len(p) {
		return Path{}, &SyntaxError{Pos: lx.pos, Msg: "unexpected text after path"}
	}
	return tok.path, nil
}

// String returns the path in the form ParsePath accepts: plain names as
// /name, other names bracketed as [/name], indexes as [n].
func (p Path) String() string {
	var b strings.Builder
	for _, s := range p.steps {
		switch {
		case s.index >= 0:
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.index))
			b.WriteByte(']')
		case plainName(s.name):
			b.WriteByte('/')
			b.WriteString(s.name)
		default:
			b.WriteString("[/")
			b.WriteString(s.name)
			b.WriteByte(']')
		}
	}
	return b.String()
}

func plainName(s string) bool {
	if s == "" || !isNameStart(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isNameChar(s[i]) {
			return false
		}
	}
	return true
}

// Lookup returns the value at the path in the JSON document doc. A missing
// field, JSON null, an empty string and an empty array are NULL; an array
// yields its first element. The result does not share memory with doc.
func (p Path) Lookup(doc []byte) Value {
	v := p.lookup(doc)
	if v.Kind == String {
		v.Str = strings.Clone(v.Str)
	}
	return v
}

// lookup is Lookup without copying strings: the result may alias doc.
func (p Path) lookup(doc []byte) Value {
	raw, fan := p.resolve(doc)
	if !fan {
		return scalarOf(raw, true)
	}
	var first []byte
	p.walk(doc, skipWS(doc, 0), 0, func(r []byte) bool {
		first = r
		return true
	})
	return scalarOf(first, true)
}

// resolve follows the path without fan-out. It returns the raw value, or
// fan=true when a field step met an array and the slower walk is needed.
func (p Path) resolve(d []byte) (raw []byte, fan bool) {
	i := skipWS(d, 0)
	for _, s := range p.steps {
		if i >= len(d) {
			return nil, false
		}
		if s.index >= 0 {
			switch d[i] {
			case '[':
				i = arrayElem(d, i, s.index)
			default:
				if s.index != 0 {
					return nil, false
				}
			}
		} else {
			switch d[i] {
			case '{':
				i = objectField(d, i, s.name, s.plain)
			case '[':
				return nil, true
			default:
				return nil, false
			}
		}
		if i < 0 {
			return nil, false
		}
	}
	end := skipValue(d, i)
	if end < 0 {
		return nil, false
	}
	return d[i:end], false
}

// walk visits every value the steps from k reach from the value at i. A
// field step applied to an array applies to each object element, so
// /items/price reaches the price of every object in items. fn returns true to stop; walk
// returns true when stopped.
func (p Path) walk(d []byte, i, k int, fn func([]byte) bool) bool {
	if i < 0 || i >= len(d) {
		return false
	}
	if k == len(p.steps) {
		end := skipValue(d, i)
		if end < 0 {
			return false
		}
		return fn(d[i:end])
	}
	s := p.steps[k]
	if s.index >= 0 {
		if d[i] == '[' {
			return p.walk(d, arrayElem(d, i, s.index), k+1, fn)
		}
		if s.index == 0 {
			return p.walk(d, i, k+1, fn)
		}
		return false
	}
	switch d[i] {
	case '{':
		return p.walk(d, objectField(d, i, s.name, s.plain), k+1, fn)
	case '[':
		it := newArrayIter(d, i)
		for {
			e, ok := it.next()
			if !ok {
				return false
			}
			// Only objects have fields: nested arrays are not searched,
			// which also bounds the recursion by the path length.
			if e[0] != '{' {
				continue
			}
			if p.walk(e, 0, k, fn) {
				return true
			}
		}
	}
	return false
}

// each calls fn with every value the path reaches: each element when the
// value is an array (the AMPS "any element matches" rule for predicates),
// the value itself otherwise, or NULL once when nothing is found. fn returns
// true to stop; each returns true when stopped.
func (p Path) each(doc []byte, fn func(Value) bool) bool {
	raw, fan := p.resolve(doc)
	if !fan {
		return eachRaw(raw, fn)
	}
	found := false
	stopped := p.walk(doc, skipWS(doc, 0), 0, func(r []byte) bool {
		found = true
		return eachRaw(r, fn)
	})
	if !found {
		return fn(NullValue)
	}
	return stopped
}

func eachRaw(raw []byte, fn func(Value) bool) bool {
	if len(raw) == 0 || raw[0] != '[' {
		return fn(scalarOf(raw, true))
	}
	it := newArrayIter(raw, 0)
	any := false
	for {
		e, ok := it.next()
		if !ok {
			break
		}
		any = true
		if fn(scalarOf(e, true)) {
			return true
		}
	}
	if !any {
		return fn(NullValue)
	}
	return false
}

// Names returns the field names of the path in order, and false when the
// path indexes an array (such a path has no plain name list). Callers that
// build output documents from a path use it instead of parsing String.
func (p Path) Names() ([]string, bool) {
	out := make([]string, 0, len(p.steps))
	for _, s := range p.steps {
		if s.index >= 0 {
			return nil, false
		}
		out = append(out, s.name)
	}
	return out, true
}
