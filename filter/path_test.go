package filter

import (
	"strings"
	"sync"
	"testing"
)

func TestParsePath(t *testing.T) {
	tests := []struct {
		in, canon string
		wantErr   bool
	}{
		{"/a", "/a", false},
		{"/a/b/c", "/a/b/c", false},
		{"/arr[3]", "/arr[3]", false},
		{"/arr[0]/x[1]", "/arr[0]/x[1]", false},
		{"[/name with spaces]", "[/name with spaces]", false},
		{"[/a b/c]", "[/a b]/c", false},
		{"/55", "/55", false},
		{"/Order/@Px", "/Order/@Px", false},
		{"", "", true},
		{"a", "", true},
		{"/", "", true},
		{"/a b", "", true},
		{"/a[", "", true},
		{"[/a", "", true},
	}
	for _, tt := range tests {
		p, err := ParsePath(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParsePath(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if err == nil && p.String() != tt.canon {
			t.Errorf("ParsePath(%q).String() = %q, want %q", tt.in, p.String(), tt.canon)
		}
	}
}

func TestLookupDoesNotAlias(t *testing.T) {
	doc := []byte(`{"s":"abc"}`)
	v := MustPath(t, "/s").Lookup(doc)
	e, err := CompileExpr("/s")
	if err != nil {
		t.Fatal(err)
	}
	w := e.Eval(doc)
	copy(doc, `{"s":"XYZ"}`)
	if v.Str != "abc" || w.Str != "abc" {
		t.Fatalf("results changed with the document: %q %q", v.Str, w.Str)
	}
}

func TestExprPaths(t *testing.T) {
	e, err := CompileExpr("IF(/a > 1, /b * /c[0], [/d e])")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range e.Paths() {
		got = append(got, p.String())
	}
	want := []string{"/a", "/b", "/c[0]", "[/d e]"}
	if len(got) != len(want) {
		t.Fatalf("Paths = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Paths = %v, want %v", got, want)
		}
	}
	if _, ok := e.Path(); ok {
		t.Fatal("Path() reports a single field for a function call")
	}
	single, _ := CompileExpr("/x/y")
	if p, ok := single.Path(); !ok || p.String() != "/x/y" {
		t.Fatalf("Path() = %v, %v", p, ok)
	}
}

// TestConcurrentUse evaluates one compiled filter from many goroutines;
// run with -race it checks that evaluation shares no mutable state (the
// dynamic regular-expression cache included).
func TestConcurrentUse(t *testing.T) {
	f, err := Compile(`REGEXP_MATCH(/s, CONCAT('^', /p)) AND /symbol IN ('IBM', 'MSFT')`)
	if err != nil {
		t.Fatal(err)
	}
	docs := [][]byte{
		[]byte(`{"s":"abc","p":"a","symbol":"IBM"}`),
		[]byte(`{"s":"abc","p":"b","symbol":"IBM"}`),
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				if !f.Match(docs[0]) || f.Match(docs[1]) {
					errs <- "wrong result under concurrency"
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}

func TestPathNames(t *testing.T) {
	n, ok := MustPath(t, "[/a b]/c").Names()
	if !ok || len(n) != 2 || n[0] != "a b" || n[1] != "c" {
		t.Fatalf("Names = %q, %v", n, ok)
	}
	if _, ok := MustPath(t, "/a[0]/c").Names(); ok {
		t.Fatal("Names accepted an indexed path")
	}
}

// TestHostileNesting feeds deeply nested documents; evaluation must stay
// iterative (no stack growth per nesting level) and simply find nothing.
func TestHostileNesting(t *testing.T) {
	const depth = 1 << 18
	docs := [][]byte{
		[]byte(strings.Repeat("[", depth) + "1" + strings.Repeat("]", depth)),
		[]byte(`{"a":` + strings.Repeat("[", depth) + `{"b":1}` + strings.Repeat("]", depth) + "}"),
		[]byte(`{"a":` + strings.Repeat(`{"a":`, depth)),
	}
	tests := []struct {
		doc  int
		expr string
		want string
	}{
		{0, "/a", "NULL"},
		{0, "/a = 1", "NULL"},
		{1, "/a[0] IS NOT NULL", "true"},
		{1, "/a", `'{"b":1}'`},
		{1, "/a/b", "NULL"},
		{1, "/a = 'x'", "false"},
		{2, "/a/a/a", "NULL"},
		{2, "/a IS NULL", "true"},
	}
	for _, tt := range tests {
		e, err := CompileExpr(tt.expr)
		if err != nil {
			t.Fatal(err)
		}
		if got := e.Eval(docs[tt.doc]).String(); got != tt.want {
			t.Errorf("doc %d: %s = %s, want %s", tt.doc, tt.expr, got, tt.want)
		}
	}
}
