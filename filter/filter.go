package filter

import (
	"strings"
	"time"
)

// Options adjusts compilation. The zero Options is what Compile and
// CompileExpr use.
type Options struct {
	// Now returns the current time for UNIX_TIMESTAMP(); nil means
	// time.Now. Tests inject a fixed clock here.
	Now func() time.Time
}

// Compile is Compile with these options.
func (o Options) Compile(expr string) (*Filter, error) {
	n, err := parse(expr, o)
	if err != nil {
		return nil, err
	}
	return &Filter{root: n, src: canonical(n)}, nil
}

// CompileExpr is CompileExpr with these options.
func (o Options) CompileExpr(expr string) (*Expr, error) {
	n, err := parse(expr, o)
	if err != nil {
		return nil, err
	}
	return &Expr{root: n, src: canonical(n)}, nil
}

// Filter is a compiled boolean content filter. It is immutable and safe for
// concurrent use.
type Filter struct {
	root node
	src  string
}

// Compile compiles a content filter. Errors are *SyntaxError.
func Compile(expr string) (*Filter, error) { return Options{}.Compile(expr) }

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
	return f.root.test(doc) == triTrue
}

// Eval returns the three-valued result of the filter: true, false, or NULL.
func (f *Filter) Eval(doc []byte) Value {
	return f.root.test(doc).value()
}

// String returns the canonical form of the filter: upper-case keywords,
// single-quoted strings, minimal parentheses. Compiling it gives an
// equivalent filter.
func (f *Filter) String() string { return f.src }

// Paths returns the fields the filter reads, in order of appearance.
func (f *Filter) Paths() []Path { return paths(f.root) }

// Deterministic reports whether the filter's result depends only on the
// document. AMPS bars non-deterministic functions (UNIX_TIMESTAMP) from
// out-of-focus filters, aggregated-subscription filters and aggregates.
func (f *Filter) Deterministic() bool { return deterministic(f.root) }

// Expr is a compiled value expression, such as "/price * /qty" or
// "UPPER(/sym)". It is immutable and safe for concurrent use.
type Expr struct {
	root node
	src  string
}

// CompileExpr compiles a value expression. Errors are *SyntaxError.
func CompileExpr(expr string) (*Expr, error) { return Options{}.CompileExpr(expr) }

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

// Deterministic reports whether the expression's value depends only on the
// document; see Filter.Deterministic.
func (e *Expr) Deterministic() bool { return deterministic(e.root) }

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

func deterministic(n node) bool {
	if c, ok := n.(*callNode); ok && c.def.volatile {
		return false
	}
	for _, k := range n.kids() {
		if !deterministic(k) {
			return false
		}
	}
	return true
}
