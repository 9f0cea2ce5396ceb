package ampserver

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestProcessorApply(t *testing.T) {
	tests := []struct {
		name   string
		fields []string
		enrich bool
		cur    string
		prev   string // "" = no previous record
		want   string
	}{
		{"append at end", []string{"/qty * /price AS /total"}, false,
			`{"id":1, "qty":2, "price":1.5}`, "", `{"id":1,"qty":2,"price":1.5,"total":3.0}`},
		{"replace in place", []string{"UPPER(/sym) AS /sym"}, false,
			`{"sym":"ibm","x":[1, 2]}`, "", `{"sym":"IBM","x":[1, 2]}`},
		{"concat with literal blanks kept", []string{`CONCAT(/first, '  ', /last) AS /name`}, false,
			`{"first":"Ada","last":"Lovelace"}`, "", `{"first":"Ada","last":"Lovelace","name":"Ada  Lovelace"}`},
		{"null written", []string{"/missing AS /m"}, false, `{"a":1}`, "", `{"a":1,"m":null}`},
		{"hint optional removes", []string{"IF(/s IN ('a','b'), /s, NULL) AS /s HINT OPTIONAL"}, false,
			`{"s":"z","k":1}`, "", `{"k":1}`},
		{"hint optional keeps", []string{"IF(/s IN ('a','b'), /s, NULL) AS /s HINT OPTIONAL"}, false,
			`{"s":"a","k":1}`, "", `{"s":"a","k":1}`},
		{"nested edit and create", []string{"/a/b + 1 AS /a/b", "'x' AS /n/m"}, false,
			`{"a":{"b":1,"c":2},"z":0}`, "", `{"a":{"b":2,"c":2},"z":0,"n":{"m":"x"}}`},
		{"fields see the message as it arrived", []string{"/v + 1 AS /v", "/v AS /w"}, false,
			`{"v":1}`, "", `{"v":2,"w":1}`},
		{"set_current", []string{"/v + 1 AS /v HINT SET_CURRENT", "/v AS /w"}, false,
			`{"v":1}`, "", `{"v":2,"w":2}`},
		{"of previous", []string{"COALESCE(/imp OF CURRENT, /imp OF PREVIOUS, 'default') AS /imp"}, true,
			`{"id":1}`, `{"id":1,"imp":"kept"}`, `{"id":1,"imp":"kept"}`},
		{"of previous without a record", []string{"COALESCE(/imp OF CURRENT, /imp OF PREVIOUS, 'default') AS /imp"}, true,
			`{"id":1}`, "", `{"id":1,"imp":"default"}`},
		{"of previous loses to current", []string{"COALESCE(/imp, /imp OF PREVIOUS) AS /imp"}, true,
			`{"id":1,"imp":"new"}`, `{"imp":"old"}`, `{"id":1,"imp":"new"}`},
		{"previous arithmetic", []string{"/n - /n OF PREVIOUS AS /change"}, true,
			`{"n":10}`, `{"n":4}`, `{"n":10,"change":6}`},
		{"division is not a path", []string{"/a / /b AS /q"}, false, `{"a":6,"b":3}`, "", `{"a":6,"b":3,"q":2}`},
		{"string containing OF", []string{"CONCAT(/a, ' OF PREVIOUS') AS /s"}, true, `{"a":"x"}`, `{"a":"y"}`, `{"a":"x","s":"x OF PREVIOUS"}`},
		{"empty object", []string{"1 AS /one"}, false, `{ }`, "", `{"one":1}`},
		{"scalar replaced by object", []string{"2 AS /a/b"}, false, `{"a":5}`, "", `{"a":{"b":2}}`},
		{"escaped key", []string{"1 AS [/a b]"}, false, `{"a\u0020b":0}`, "", `{"a\u0020b":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, bad, err := compileProcessor(tt.fields, tt.enrich)
			noErr(t, err)
			require(t, bad == -1, "bad %d", bad)
			var prev []byte
			if tt.prev != "" {
				prev = []byte(tt.prev)
			}
			got, err := p.apply([]byte(tt.cur), prev)
			noErr(t, err)
			require(t, string(got) == tt.want, "got %s want %s", got, tt.want)
			require(t, json.Valid(got), "invalid JSON %s", got)
		})
	}
}

func TestProcessorErrors(t *testing.T) {
	tests := []struct {
		name   string
		fields []string
		enrich bool
		want   string
	}{
		{"no AS", []string{"/a"}, false, "AS"},
		{"bad expression", []string{"/a + AS /b"}, false, "expression"},
		{"bad destination", []string{"/a AS b"}, false, "destination"},
		{"array destination", []string{"/a AS /b[0]"}, false, "array"},
		{"unknown hint", []string{"/a AS /b HINT LOUD"}, false, "HINT"},
		{"previous in preprocessing", []string{"/a OF PREVIOUS AS /b"}, false, "Enrichment"},
		{"dangling OF", []string{"1 OF PREVIOUS AS /b"}, true, "OF"},
		{"same destination twice", []string{"1 AS /a", "2 AS /a"}, false, "overlaps"},
		{"nested overlap", []string{"1 AS /a", "2 AS /a/b"}, false, "overlaps"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := compileProcessor(tt.fields, tt.enrich)
			require(t, err != nil && strings.Contains(err.Error(), tt.want), "want error containing %q, got %v", tt.want, err)
		})
	}
}

func TestProcessorRejectsNonObjects(t *testing.T) {
	p, _, err := compileProcessor([]string{"1 AS /a"}, false)
	noErr(t, err)
	for _, doc := range []string{``, `[1]`, `"x"`, `{"a":`, `{"a":1}x`} {
		_, err := p.apply([]byte(doc), nil)
		require(t, err != nil, "%q accepted", doc)
	}
}

// FuzzFieldSpec checks that field constructors never panic, and that a
// compiled one turns any JSON object into a JSON object.
func FuzzFieldSpec(f *testing.F) {
	f.Add("/qty * /price AS /total", `{"qty":2,"price":3}`, `{"x":1}`)
	f.Add("COALESCE(/a OF PREVIOUS, 'd') AS /a/b HINT OPTIONAL,SET_CURRENT", `{"a":{"c":1}}`, `{"a":"p"}`)
	f.Add("CONCAT(/f, \" \", /l) AS [/full name]", `{"f":"a","l":"b"}`, ``)
	f.Add("/a / /b AS /q", `{"a":1,"b":0,"q":[1,{"x":2}]}`, `{}`)
	f.Fuzz(func(t *testing.T, spec, cur, prev string) {
		p, _, err := compileProcessor([]string{spec}, true)
		if err != nil {
			return
		}
		var pv []byte
		if json.Valid([]byte(prev)) && strings.HasPrefix(strings.TrimSpace(prev), "{") {
			pv = []byte(prev)
		}
		out, err := p.apply([]byte(cur), pv)
		if err != nil {
			return
		}
		if !json.Valid(out) || out[0] != '{' {
			t.Fatalf("spec %q on %q gave invalid JSON %q", spec, cur, out)
		}
	})
}
