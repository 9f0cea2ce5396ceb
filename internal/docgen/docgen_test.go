package docgen

import (
	"strings"
	"testing"

	"ampsflume/flume"
	_ "ampsflume/plugins"
)

// TestEverySpecDocumented: every component linked into flume-ng says what it
// is, and every key has a type and a description.
func TestEverySpecDocumented(t *testing.T) {
	secs := Sections()
	if len(secs) != 7 {
		t.Fatalf("%d sections", len(secs))
	}
	for _, s := range secs {
		if len(s.Specs) == 0 {
			t.Errorf("%s: no types", s.Title)
		}
		seen := map[string]bool{}
		for _, sp := range s.Specs {
			if sp.Alias == "" || seen[sp.Alias] {
				t.Errorf("%s: empty or duplicate alias %q", s.Title, sp.Alias)
			}
			seen[sp.Alias] = true
			if strings.TrimSpace(sp.Doc) == "" {
				t.Errorf("%s %q has no Doc", sp.Kind, sp.Alias)
			}
			if sp.Kind != s.Kind {
				t.Errorf("%s %q listed under %s", sp.Kind, sp.Alias, s.Kind)
			}
			names := map[string]bool{}
			for _, k := range sp.Keys {
				if k.Name == "" || names[k.Name] {
					t.Errorf("%s %q: empty or duplicate key %q", sp.Kind, sp.Alias, k.Name)
				}
				names[k.Name] = true
				if strings.TrimSpace(k.Type) == "" {
					t.Errorf("%s %q key %q has no Type", sp.Kind, sp.Alias, k.Name)
				}
				if strings.TrimSpace(k.Doc) == "" {
					t.Errorf("%s %q key %q has no Doc", sp.Kind, sp.Alias, k.Name)
				}
				if k.Required && k.Default != "" {
					t.Errorf("%s %q key %q is required but has default %q", sp.Kind, sp.Alias, k.Name, k.Default)
				}
			}
		}
		for _, k := range s.Common {
			if k.Type == "" || k.Doc == "" {
				t.Errorf("%s common key %q lacks a type or doc", s.Title, k.Name)
			}
		}
	}
}

func TestLookup(t *testing.T) {
	tests := []struct {
		typ   string
		kinds []flume.Kind
	}{
		{"memory", []flume.Kind{flume.KindChannel}},
		{"ORG.APACHE.FLUME.CHANNEL.MEMORYCHANNEL", []flume.Kind{flume.KindChannel}},
		{"avro", []flume.Kind{flume.KindSource, flume.KindSink}},
		{"multiplexing", []flume.Kind{"selector"}},
		{"failover", []flume.Kind{"sinkprocessor"}},
		{"avro_event", []flume.Kind{"serializer"}},
		{"nosuch", nil},
	}
	for _, tc := range tests {
		var got []flume.Kind
		for _, s := range Lookup(tc.typ) {
			got = append(got, s.Kind)
		}
		if strings.Join(kindStrings(got), ",") != strings.Join(kindStrings(tc.kinds), ",") {
			t.Errorf("Lookup(%q) kinds %v, want %v", tc.typ, got, tc.kinds)
		}
	}
	al := Aliases()
	for i := 1; i < len(al); i++ {
		if al[i-1] >= al[i] {
			t.Fatalf("aliases not sorted and unique: %v", al)
		}
	}
}

func kindStrings(ks []flume.Kind) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = string(k)
	}
	return out
}

// TestRender: placeholders and pipes cannot break the Markdown.
func TestRender(t *testing.T) {
	page := string(Render(Section{
		Kind: "thing", Title: "Things", Intro: "Intro.",
		Specs: []flume.Spec{
			{Kind: "thing", Alias: "a b", Class: "x.Y", Doc: "Routes by <value>.", Keys: []flume.Key{
				{Name: "mapping.", Type: "list", Doc: "mapping.<value> | more", Default: "a|b"},
				{Name: "must", Type: "int", Required: true, Doc: "Needed."},
			}},
			{Kind: "thing", Alias: "bare", Doc: "No keys."},
		},
	}))
	for _, want := range []string{
		"# Things\n\nIntro.\n",
		"Types: [a b](#a-b), [bare](#bare).",
		"## a b\n\nType: `a b` or `x.Y`\n\nRoutes by &lt;value&gt;.\n",
		"| `mapping.*` | list | `a\\|b` |  | mapping.&lt;value&gt; \\| more |",
		"| `must` | int |  | yes | Needed. |",
		"## bare\n\nType: `bare`\n\nNo keys.\n\nNo keys of its own.\n",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("missing %q in:\n%s", want, page)
		}
	}
	if !strings.HasSuffix(page, "own.\n") || strings.HasSuffix(page, "\n\n") {
		t.Errorf("page does not end with one newline: %q", page[len(page)-20:])
	}
	if !strings.HasPrefix(page, "<!-- Code generated") {
		t.Error("no generated-file marker")
	}
}
