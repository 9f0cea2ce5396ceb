package filter

import (
	"testing"
)

var fuzzExprs = []string{
	`/symbol IN ('IBM', 'MSFT') AND /qty > 100`,
	`/a = 1 OR NOT /b BETWEEN 1 AND 2`,
	`/s LIKE '^a.*b$' AND /s NOT BEGINS WITH ('x', 'y')`,
	`[/a b/c][0] IS NOT NULL`,
	`UPPER(CONCAT(/a, 'x')) = 'AX'`,
	`IF(/a > 1, /b * 2, /c % 3) IS NAN`,
	`/price*/qty / 2 - -1`,
	`'a\x41\101' ENDS WITH "b"`,
	`SUBSTR(/s, -2, 1) IN (/t, NULL, 1.5e3)`,
	`COALESCE(/a, /b, 7) MOD 2 == 0`,
}

var fuzzDocs = []string{
	`{"order_key":1, "symbol":"MSFT", "price":62.15, "qty":100}`,
	`{"a":[1,2,{"b":"c"}],"s":"x\"y\u00e9","n":null,"t":true}`,
	`{"a b":{"c":[[]]}}`,
	`[{"a":1}]`,
	`{"a":`,
	``,
}

// FuzzCompile checks that compiling never panics and that the canonical
// form of any accepted expression compiles back to the same canonical form.
func FuzzCompile(f *testing.F) {
	for _, e := range fuzzExprs {
		f.Add(e)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		e, err := CompileExpr(expr)
		if err != nil {
			if _, ok := err.(*SyntaxError); !ok {
				t.Fatalf("error %T is not *SyntaxError", err)
			}
			return
		}
		again, err := CompileExpr(e.String())
		if err != nil {
			t.Fatalf("canonical form %q of %q does not compile: %v", e.String(), expr, err)
		}
		if again.String() != e.String() {
			t.Fatalf("canonical form not stable: %q -> %q", e.String(), again.String())
		}
	})
}

// FuzzMatch checks that evaluating any expression against any document
// never panics, and that Match agrees with Eval.
func FuzzMatch(f *testing.F) {
	for _, e := range fuzzExprs {
		for _, d := range fuzzDocs {
			f.Add(e, []byte(d))
		}
	}
	f.Fuzz(func(t *testing.T, expr string, doc []byte) {
		fl, err := Compile(expr)
		if err != nil {
			return
		}
		m := fl.Match(doc)
		v := fl.Eval(doc)
		if m != (v.Kind == Bool && v.Bool) {
			t.Fatalf("Match = %v but Eval = %v", m, v)
		}
		for _, p := range fl.Paths() {
			p.Lookup(doc)
		}
	})
}

// FuzzLookup checks the JSON scanner alone on arbitrary bytes.
func FuzzLookup(f *testing.F) {
	for _, d := range fuzzDocs {
		f.Add("/a/b", []byte(d))
	}
	f.Fuzz(func(t *testing.T, path string, doc []byte) {
		p, err := ParsePath(path)
		if err != nil {
			return
		}
		p.Lookup(doc)
		p.each(doc, func(Value) bool { return false })
	})
}
