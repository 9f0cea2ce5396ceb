package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseProperties(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Entry
	}{
		{"equals", "a=b", []Entry{{"a", "b", 1}}},
		{"colon", "a:b", []Entry{{"a", "b", 1}}},
		{"whitespace separator", "a b", []Entry{{"a", "b", 1}}},
		{"spaces around equals", "  a  =  b  ", []Entry{{"a", "b  ", 1}}},
		{"space then colon", "a : b", []Entry{{"a", "b", 1}}},
		{"second separator is value", "a = = b", []Entry{{"a", "= b", 1}}},
		{"empty value", "a =", []Entry{{"a", "", 1}}},
		{"key only", "a", []Entry{{"a", "", 1}}},
		{"hash comment", "# c\na=1", []Entry{{"a", "1", 2}}},
		{"bang comment", "  ! c\na=1", []Entry{{"a", "1", 2}}},
		{"hash inside value", "a=b#c", []Entry{{"a", "b#c", 1}}},
		{"blank lines", "\n\n  \na=1\n\n", []Entry{{"a", "1", 4}}},
		{"continuation strips indent", "a=x,\\\n    y\nb=2", []Entry{{"a", "x,y", 1}, {"b", "2", 3}}},
		{"double continuation", "a=1\\\n 2\\\n\t3", []Entry{{"a", "123", 1}}},
		{"escaped backslash is not continuation", "a=x\\\\\nb=1", []Entry{{"a", `x\`, 1}, {"b", "1", 2}}},
		{"continuation line starting with hash", "a=x\\\n  #y", []Entry{{"a", "x#y", 1}}},
		{"comment ending in backslash", "# c \\\na=1", []Entry{{"a", "1", 2}}},
		{"escapes", `a=t\tn\nr\rf\f\q\=`, []Entry{{"a", "t\tn\nr\rf\fq=", 1}}},
		{"escaped separator in key", `a\=b\ c=d`, []Entry{{"a=b c", "d", 1}}},
		{"unicode escape", `a=\u00e9\u0041`, []Entry{{"a", "éA", 1}}},
		{"surrogate pair", `a=\uD83D\uDE00`, []Entry{{"a", "😀", 1}}},
		{"crlf", "a=1\r\nb=2\r\n", []Entry{{"a", "1", 1}, {"b", "2", 2}}},
		{"cr only", "a=1\rb=2", []Entry{{"a", "1", 1}, {"b", "2", 2}}},
		{"continuation at eof", "a=1\\", []Entry{{"a", "1", 1}}},
		{"latin1 byte", "a=caf\xe9", []Entry{{"a", "café", 1}}},
		{"duplicate keys kept in order", "a=1\na=2", []Entry{{"a", "1", 1}, {"a", "2", 2}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseProperties("f", []byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParsePropertiesErrors(t *testing.T) {
	for _, in := range []string{`a=\u12`, `a=\uZZZZ`, "x=1\n\n" + `b\u00=1`} {
		_, err := ParseProperties("f.properties", []byte(in))
		if err == nil {
			t.Fatalf("%q: no error", in)
		}
		if !strings.Contains(err.Error(), "f.properties:") || !strings.Contains(err.Error(), `\u`) {
			t.Fatalf("%q: error %q lacks location or escape", in, err)
		}
	}
	_, err := ParseProperties("f.properties", []byte("x=1\n\n"+`b\u00=1`))
	if !strings.Contains(err.Error(), "f.properties:3") {
		t.Fatalf("wrong line: %v", err)
	}
}

// TestSeedExample checks the article's example: the options value spans two
// lines and the empty bookmarkLog is ignored.
func TestSeedExample(t *testing.T) {
	p, err := Load("testdata/flume-conf.properties")
	if err != nil {
		t.Fatal(err)
	}
	opt, ok := p.Get("agent.sources.amps.options")
	if !ok {
		t.Fatal("options missing")
	}
	want := "projection=[/symbol,avg(/price) as /avg_price,avg(/price*/qty) as /avg_total],grouping=[/symbol],conflation=1s"
	if opt.Value != want {
		t.Fatalf("options = %q, want %q", opt.Value, want)
	}
	if opt.Loc.Line != 18 || opt.Loc.File != "testdata/flume-conf.properties" {
		t.Fatalf("options at %v", opt.Loc)
	}
	a, probs := p.Agent("agent", Options{})
	if probs.HasErrors() {
		t.Fatalf("errors: %v", probs)
	}
	src := a.Sources[0]
	if _, ok := src.Props["bookmarkLog"]; ok {
		t.Fatal("empty bookmarkLog must be ignored")
	}
	if src.Props["filter"].Value != "/symbol IN ('IBM', 'MSFT')" {
		t.Fatalf("filter = %q", src.Props["filter"].Value)
	}
	if !reflect.DeepEqual(src.Channels, []string{"mem"}) || a.Sinks[0].Channel != "mem" {
		t.Fatalf("wiring: %v %v", src.Channels, a.Sinks[0].Channel)
	}
}

func FuzzParseProperties(f *testing.F) {
	for _, s := range []string{"a=b", "a\\\n b", `a=\u0041`, "# c\n!d\n a : b c", `\u`, "a=\\", "\r\n\r", "k\\=x=\\uD83D\\uDE00"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := ParseProperties("fuzz", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz:") {
				t.Fatalf("error without location: %v", err)
			}
			return
		}
		lines := strings.Count(string(data), "\n") + strings.Count(string(data), "\r") + 1
		last := 0
		for _, e := range entries {
			if e.Line < 1 || e.Line > lines || e.Line <= last {
				t.Fatalf("line %d out of order or range (last %d, lines %d)", e.Line, last, lines)
			}
			last = e.Line
		}
		// Whatever parsed must survive a round trip through an escaped form.
		var b strings.Builder
		for _, e := range entries {
			b.WriteString(escapeForTest(e.Key, true))
			b.WriteString("=")
			b.WriteString(escapeForTest(e.Value, false))
			b.WriteString("\n")
		}
		again, err := ParseProperties("fuzz", []byte(b.String()))
		if err != nil {
			t.Fatalf("re-parse of %q: %v", b.String(), err)
		}
		if len(again) != len(entries) {
			t.Fatalf("round trip: %d entries, want %d", len(again), len(entries))
		}
		for i := range again {
			if again[i].Key != entries[i].Key || again[i].Value != entries[i].Value {
				t.Fatalf("round trip %d: %q=%q, want %q=%q", i, again[i].Key, again[i].Value, entries[i].Key, entries[i].Value)
			}
		}
	})
}

// escapeForTest writes s so that ParseProperties reads it back unchanged.
func escapeForTest(s string, key bool) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\f':
			b.WriteString(`\f`)
		case r == ' ' && (key || i == 0):
			b.WriteString(`\ `)
		case key && (r == '=' || r == ':'):
			b.WriteString(`\`)
			b.WriteRune(r)
		case i == 0 && key && (r == '#' || r == '!'):
			b.WriteString(`\`)
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
