package filter

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestCases replays testdata/cases.txt. Each non-blank, non-comment line is
// one case:
//
//	doc <json>                   sets the document for the following cases
//	match <expr> => true|false   Filter.Match
//	eval <expr> => <value>       Expr.Eval, printed with Value.String
//	canon <expr> => <text>       Expr.String
//	error <expr> => <pos> [text] compile error at byte offset pos whose
//	                             message contains text
//
// The expected result follows the last " => " on the line.
func TestCases(t *testing.T) {
	f, err := os.Open("testdata/cases.txt")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	sc := bufio.NewScanner(f)
	doc := []byte(`{}`)
	n := 0
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		verb, rest, _ := strings.Cut(text, " ")
		if verb == "doc" {
			doc = []byte(rest)
			continue
		}
		i := strings.LastIndex(rest, " => ")
		if i < 0 {
			t.Fatalf("cases.txt:%d: no ' => '", line)
		}
		expr, want := rest[:i], strings.TrimSpace(rest[i+4:])
		n++
		where := "cases.txt:" + strconv.Itoa(line) + ": " + expr
		switch verb {
		case "match":
			fl, err := Compile(expr)
			if err != nil {
				t.Errorf("%s: %v", where, err)
				continue
			}
			if got := strconv.FormatBool(fl.Match(doc)); got != want {
				t.Errorf("%s on %s: match = %s, want %s", where, doc, got, want)
			}
		case "eval":
			e, err := CompileExpr(expr)
			if err != nil {
				t.Errorf("%s: %v", where, err)
				continue
			}
			if got := e.Eval(doc).String(); got != want {
				t.Errorf("%s on %s: eval = %s, want %s", where, doc, got, want)
			}
		case "canon":
			e, err := CompileExpr(expr)
			if err != nil {
				t.Errorf("%s: %v", where, err)
				continue
			}
			if got := e.String(); got != want {
				t.Errorf("%s: canonical = %q, want %q", where, got, want)
			}
			again, err := CompileExpr(e.String())
			if err != nil || again.String() != e.String() {
				t.Errorf("%s: canonical form does not round-trip: %v", where, err)
			}
		case "error":
			wantPos, wantMsg, _ := strings.Cut(want, " ")
			_, err := Compile(expr)
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Errorf("%s: error = %v, want *SyntaxError", where, err)
				continue
			}
			if !strings.HasPrefix(err.Error(), "bad filter") {
				t.Errorf("%s: error %q does not start with 'bad filter'", where, err)
			}
			if strconv.Itoa(se.Pos) != wantPos || !strings.Contains(se.Msg, wantMsg) {
				t.Errorf("%s: error at %d %q, want at %s containing %q", where, se.Pos, se.Msg, wantPos, wantMsg)
			}
		default:
			t.Fatalf("cases.txt:%d: unknown verb %q", line, verb)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 300 {
		t.Errorf("only %d cases; the suite is meant to hold at least 300", n)
	}
}

func loadMessages(tb testing.TB) [][]byte {
	data, err := os.ReadFile("testdata/messages.json")
	if err != nil {
		tb.Fatal(err)
	}
	var msgs [][]byte
	for _, l := range bytes.Split(data, []byte("\n")) {
		if l = bytes.TrimSpace(l); len(l) > 0 {
			msgs = append(msgs, l)
		}
	}
	return msgs
}

// TestArticleFilter checks the article's subscription filter against its
// messages: FIZZ and YUM (orders 4, 5, 7, 11, 13) are left out.
func TestArticleFilter(t *testing.T) {
	f, err := Compile(`/symbol IN ('IBM', 'MSFT')`)
	if err != nil {
		t.Fatal(err)
	}
	key := MustPath(t, "/order_key")
	var got []string
	for _, m := range loadMessages(t) {
		if f.Match(m) {
			got = append(got, key.Lookup(m).String())
		}
	}
	want := "1 2 3 6 8 9 10 12 14 15"
	if strings.Join(got, " ") != want {
		t.Fatalf("matching keys = %v, want %s", got, want)
	}
}

func MustPath(tb testing.TB, s string) Path {
	tb.Helper()
	p, err := ParsePath(s)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func TestMatchAllocs(t *testing.T) {
	f, err := Compile(`/symbol IN ('IBM', 'MSFT') AND /qty > 100`)
	if err != nil {
		t.Fatal(err)
	}
	msgs := loadMessages(t)
	allocs := testing.AllocsPerRun(100, func() {
		for _, m := range msgs {
			f.Match(m)
		}
	})
	if allocs != 0 {
		t.Fatalf("Match allocates %.1f times per pass, want 0", allocs)
	}
}

func BenchmarkFilter(b *testing.B) {
	f, err := Compile(`/symbol IN ('IBM', 'MSFT') AND /qty > 100`)
	if err != nil {
		b.Fatal(err)
	}
	msgs := loadMessages(b)
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for i := 0; b.Loop(); i++ {
		if f.Match(msgs[i%len(msgs)]) {
			n++
		}
	}
	if n == 0 {
		b.Fatal("nothing matched")
	}
}

func BenchmarkFilterParallel(b *testing.B) {
	f, err := Compile(`/symbol IN ('IBM', 'MSFT') AND /qty > 100`)
	if err != nil {
		b.Fatal(err)
	}
	msgs := loadMessages(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			f.Match(msgs[i%len(msgs)])
			i++
		}
	})
}

// BenchmarkExpr is the aggregation's per-record work in the article's
// example: one product of two fields.
func BenchmarkExpr(b *testing.B) {
	e, err := CompileExpr(`/price*/qty`)
	if err != nil {
		b.Fatal(err)
	}
	msgs := loadMessages(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		e.Eval(msgs[i%len(msgs)])
	}
}
