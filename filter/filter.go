package filter

import "strings"

// Filter is a compiled boolean content filter. It is immutable and safe for
// concurrent use.
type Filter struct {
	root node
	src  string
}

// Compile compiles a content filter. Errors are *SyntaxError.
func Compile(expr string) (*Filter, error) {
	n, err := parse(expr)
	if err != nil {
		return nil, err
	}
	return &Filter{root: n, src: canonical(n)}, nil
}

// MustCompile is Compile for expressions known to be valid; it panics on
// error.
func MustCompile(expr string) *Filter {
	f, err := Compile(expr)
	if err != nil {
		panic(err)
	}
	return f
}

// Match reports whether the JSON document doc matches: only a TRUE result
// matches; FALSE, NULL and NaN do not.
func (f *Filter) Match(doc []byte) bool {
	return truthOf(f.root.eval(doc)) == triTrue
}

// Eval returns the three-valued result of the filter: true, false, or NULL.
func (f *Filter) Eval(doc []byte) Value {
	return truthOf(f.root.eval(doc)).value()
}

// String returns the canonical form of the filter: upper-case keywords,
// single-quoted strings, minimal parentheses. Compiling it gives an
// equivalent filter.
func (f *Filter) String() string { return f.src }

// Paths returns the fields the filter reads, in order of appearance.
func (f *Filter) Paths() []Path { return paths(f.root) }

// Expr is a compiled value expression, such as "/price * /qty" or
// "UPPER(/sym)". It is immutable and safe for concurrent use.
type Expr struct {
	root node
	src  string
}

// CompileExpr compiles a value expression. Errors are *SyntaxError.
func CompileExpr(expr string) (*Expr, error) {
	n, err := parse(expr)
	if err != nil {
		return nil, err
	}
	return &Expr{root: n, src: canonical(n)}, nil
}

// Eval evaluates the expression against the JSON document doc. The result
// does not share memory with doc.
func (e *Expr) Eval(doc []byte) Value {
	v := e.root.eval(doc)
	if v.Kind == String {
		v.Str = strings.Clone(v.Str)
	}
	return v
}

// String returns the canonical form of the expression.
func (e *Expr) String() string { return e.src }

// Paths returns the fields the expression reads, in order of appearance.
func (e *Expr) Paths() []Path { return paths(e.root) }

// Path returns the expression's path and true when the whole expression is
// a single field reference, so callers can use Path.Lookup directly.
func (e *Expr) Path() (Path, bool) {
	if p, ok := e.root.(*pathNode); ok {
		return p.path, true
	}
	return Path{}, false
}

func canonical(n node) string {
	var b strings.Builder
	n.write(&b)
	return b.String()
}

func paths(n node) []Path {
	var out []Path
	var visit func(node)
	visit = func(n node) {
		if p, ok := n.(*pathNode); ok {
			out = append(out, p.path)
		}
		for _, k := range n.kids() {
			visit(k)
		}
	}
	visit(n)
	return out
}
