package filter

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

var fieldSetPaths = []string{"/a", "/b", "/a", "/a/b", "/arr[0]", "[/x y]", "/é", "/ab", "[/q\"]", "/n", "/t"}

var fieldSetDocs = []string{
	`{"a":1,"b":"two","ab":3.5}`,
	` { "b" : [1,2] , "a" : {"b":"nested"} , "x y":true } `,
	`{"a":1,"a":2}`,                      // the first occurrence wins
	`{"a\u0062":7,"q\"":"quoted","é":1}`, // escaped keys
	`{"n":null,"t":"","a":[],"b":{}}`,    // NULL forms
	`{"b":"x","a":`,                      // truncated after a found field
	`{"b":tru,"a":1}`,                    // malformed scalars still skip
	`{"b":{"c":[1,}],"a":1}`,             // malformed value before /a
	`{"b" 1,"a":1}`,
	`[{"a":1,"b":2},{"a":3}]`, // top-level array fans out
	`"a"`,
	`42`,
	``,
	`{}`,
	`{"arr":[["x"],2],"a":"s\"q"}`,
}

func sameValue(a, b Value) bool {
	if a.Kind == Number && b.Kind == Number && math.IsNaN(a.Num) && math.IsNaN(b.Num) {
		return a.IsInt == b.IsInt
	}
	return a == b
}

// checkFieldSet compares every result of one pass with Path.Lookup.
func checkFieldSet(t *testing.T, paths []Path, doc []byte) {
	t.Helper()
	s := NewFieldSet(paths)
	out := make([]Value, s.Len())
	s.LookupAliased(doc, out)
	for i, p := range paths {
		if want := p.Lookup(doc); !sameValue(out[i], want) {
			t.Fatalf("doc %q path %s: FieldSet %#v, Lookup %#v", doc, p.String(), out[i], want)
		}
	}
}

func parsePaths(t testing.TB, srcs []string) []Path {
	t.Helper()
	var ps []Path
	for _, s := range srcs {
		p, err := ParsePath(s)
		if err != nil {
			t.Fatalf("ParsePath(%q): %v", s, err)
		}
		ps = append(ps, p)
	}
	return ps
}

func TestFieldSetMatchesLookup(t *testing.T) {
	paths := parsePaths(t, fieldSetPaths)
	for _, d := range append(fieldSetDocs, fuzzDocs...) {
		checkFieldSet(t, paths, []byte(d))
		// Each path alone too: the scan stops at the only field.
		for _, p := range paths {
			checkFieldSet(t, []Path{p}, []byte(d))
		}
	}
}

func TestFieldSetResults(t *testing.T) {
	paths := parsePaths(t, []string{"/sym", "/price", "/gone"})
	s := NewFieldSet(paths)
	out := make([]Value, 3)
	s.LookupAliased([]byte(`{"price":62.15,"sym":"MSFT","qty":1}`), out)
	if out[0] != StringValue("MSFT") || out[1] != NumberValue(62.15) || out[2] != NullValue {
		t.Fatalf("got %#v", out)
	}
	// Results of an earlier document do not leak into the next one.
	s.LookupAliased([]byte(`{"sym":"IBM"}`), out)
	if out[0] != StringValue("IBM") || out[1] != NullValue || out[2] != NullValue {
		t.Fatalf("second document: %#v", out)
	}
}

func TestFieldSetManyFields(t *testing.T) {
	// More single-field paths than one pass tracks: the rest are looked up
	// one by one and the answers do not change.
	var srcs []string
	var doc strings.Builder
	doc.WriteByte('{')
	for i := 0; i < maxTopFields+6; i++ {
		name := "f" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		srcs = append(srcs, "/"+name)
		if i > 0 {
			doc.WriteByte(',')
		}
		doc.WriteString(`"` + name + `":` + strings.Repeat("1", 1+i%5))
	}
	doc.WriteByte('}')
	checkFieldSet(t, parsePaths(t, srcs), []byte(doc.String()))
}

// FuzzFieldSet checks that one pass over a document finds what a lookup per
// path finds, on any input.
func FuzzFieldSet(f *testing.F) {
	for _, d := range append(fieldSetDocs, fuzzDocs...) {
		f.Add(d)
	}
	paths := parsePaths(f, fieldSetPaths)
	f.Fuzz(func(t *testing.T, doc string) {
		checkFieldSet(t, paths, []byte(doc))
	})
}

// slowNumber is parseJSONNumber without its fast paths.
func slowNumber(raw []byte) Value {
	isFloat := false
	for _, c := range raw {
		switch {
		case c == '.' || c == 'e' || c == 'E':
			isFloat = true
		case c == '-' || c == '+' || (c >= '0' && c <= '9'):
		default:
			return NullValue
		}
	}
	if !isFloat {
		if n, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
			return IntValue(n)
		}
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
			return NullValue
		}
	}
	return NumberValue(f)
}

var numberSeeds = []string{"0", "-0", "12", "456.25", "-456.5", "0.1", "-0.0", ".5", "-.5", "1.", ".", "-.", "-",
	"9007199254740993.", "900719925474099.3", "0.0000000000000000001", "1.00000000000000000", "12345678.123456789",
	"1e3", "1.5E-2", "+1.5", "00.5", "1.2.3", "1-2", "99999999999999999"}

func TestShortDecimals(t *testing.T) {
	for _, s := range numberSeeds {
		got, want := parseJSONNumber([]byte(s)), slowNumber([]byte(s))
		if !sameValue(got, want) || math.Signbit(got.Num) != math.Signbit(want.Num) {
			t.Errorf("parseJSONNumber(%q) = %#v, strconv gives %#v", s, got, want)
		}
	}
}

// FuzzJSONNumber checks the number fast paths against strconv.
func FuzzJSONNumber(f *testing.F) {
	for _, s := range numberSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if s == "" {
			return
		}
		got, want := parseJSONNumber([]byte(s)), slowNumber([]byte(s))
		if !sameValue(got, want) || math.Signbit(got.Num) != math.Signbit(want.Num) {
			t.Fatalf("parseJSONNumber(%q) = %#v, strconv gives %#v", s, got, want)
		}
	})
}
