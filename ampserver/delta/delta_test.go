package delta

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestMerge(t *testing.T) {
	tests := []struct {
		name, old, delta, want string
	}{
		{"replace and keep", `{"order_key":1, "symbol":"MSFT", "price":62.15, "qty":100}`, `{"order_key":1,"price":63}`,
			`{"order_key":1,"symbol":"MSFT","price":63,"qty":100}`},
		{"add new field", `{"a":1}`, `{"b":{"c":2}}`, `{"a":1,"b":{"c":2}}`},
		{"nested merge keeps siblings", `{"a":{"x":1,"y":2},"z":0}`, `{"a":{"y":3,"w":4}}`, `{"a":{"x":1,"y":3,"w":4},"z":0}`},
		{"arrays replaced whole", `{"contents":{"packages":[1,2,3],"v":1}}`, `{"contents":{"packages":[4]}}`, `{"contents":{"packages":[4],"v":1}}`},
		{"object replaces scalar", `{"a":1}`, `{"a":{"b":1}}`, `{"a":{"b":1}}`},
		{"scalar replaces object", `{"a":{"b":1}}`, `{"a":null}`, `{"a":null}`},
		{"no old record", ``, ` { "a" : [1, 2] } `, `{"a":[1,2]}`},
		{"empty delta", `{"a":1}`, `{}`, `{"a":1}`},
		{"escaped keys", `{"a\"b":1,"c":2}`, `{"a\"b":5}`, `{"a\"b":5,"c":2}`},
		{"duplicate keys: last wins", `{"a":1,"a":2}`, `{"b":1,"b":3}`, `{"a":2,"b":3}`},
		{"strings with structure chars", `{"s":"},{\"x"}`, `{"t":"]"}`, `{"s":"},{\"x","t":"]"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Merge([]byte(tc.old), []byte(tc.delta))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Fatalf("got %s want %s", got, tc.want)
			}
		})
	}
}

func TestMergeErrors(t *testing.T) {
	for _, tc := range []struct{ old, delta string }{
		{`{"a":1}`, `{"a":`},
		{`{"a":1}`, `[1]`},
		{`{"a":1}`, `"x"`},
		{`{"a":`, `{"a":1}`},
		{`[]`, `{"a":1}`},
	} {
		if _, err := Merge([]byte(tc.old), []byte(tc.delta)); err == nil {
			t.Errorf("Merge(%s, %s): no error", tc.old, tc.delta)
		}
	}
}

func TestDiff(t *testing.T) {
	tests := []struct {
		name, old, new string
		keys           []string
		want           string
		changed        bool
	}{
		{"changed fields plus key", `{"order_key":1,"symbol":"MSFT","price":62.15,"qty":100}`, `{"order_key":1,"symbol":"MSFT","price":63.0,"qty":100}`,
			[]string{"/order_key"}, `{"order_key":1,"price":63.0}`, true},
		{"nothing changed", `{"k":1,"a":"x"}`, `{"k":1, "a" : "x"}`, []string{"/k"}, `{"k":1}`, false},
		{"no keys", `{"k":1,"a":"x"}`, `{"k":1,"a":"y"}`, nil, `{"a":"y"}`, true},
		{"new field", `{"k":1}`, `{"k":1,"b":[1,2]}`, []string{"/k"}, `{"k":1,"b":[1,2]}`, true},
		{"nested changes only", `{"k":1,"o":{"x":1,"y":2}}`, `{"k":1,"o":{"x":1,"y":3}}`, []string{"/k"}, `{"k":1,"o":{"y":3}}`, true},
		{"nested unchanged dropped", `{"k":1,"o":{"x":1},"a":1}`, `{"k":1,"o":{"x":1},"a":2}`, []string{"/k"}, `{"k":1,"a":2}`, true},
		{"nested key", `{"id":{"n":1,"v":0},"a":1}`, `{"id":{"n":1,"v":0},"a":2}`, []string{"/id/n"}, `{"id":{"n":1},"a":2}`, true},
		{"grouping keys of a view", `{"symbol":"IBM","avg_price":180.4,"avg_total":22550.0}`, `{"symbol":"IBM","avg_price":180.71,"avg_total":29377.0}`,
			[]string{"/symbol"}, `{"symbol":"IBM","avg_price":180.71,"avg_total":29377.0}`, true},
		{"array changed whole", `{"k":1,"a":[1,2]}`, `{"k":1,"a":[1,3]}`, []string{"/k"}, `{"k":1,"a":[1,3]}`, true},
		{"type change", `{"k":1,"a":{"b":1}}`, `{"k":1,"a":5}`, []string{"/k"}, `{"k":1,"a":5}`, true},
		{"no previous record", ``, `{"k":1, "a":2}`, []string{"/k"}, `{"k":1,"a":2}`, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, changed, err := Diff([]byte(tc.old), []byte(tc.new), tc.keys)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want || changed != tc.changed {
				t.Fatalf("got %s %v want %s %v", got, changed, tc.want, tc.changed)
			}
		})
	}
	if _, _, err := Diff([]byte(`{"a":1}`), []byte(`nope`), nil); err == nil {
		t.Fatal("invalid new: no error")
	}
}

func FuzzMergeDiff(f *testing.F) {
	f.Add([]byte(`{"k":1,"a":{"b":2,"c":[1]},"d":"x"}`), []byte(`{"k":1,"a":{"b":3},"e":null}`))
	f.Add([]byte(`{}`), []byte(`{"a":{}}`))
	f.Add([]byte(`{"a":"\u00e9\\"}`), []byte(`{"a":1e5}`))
	f.Fuzz(func(t *testing.T, old, delta []byte) {
		m, err := Merge(old, delta)
		if err != nil {
			return
		}
		if !json.Valid(m) {
			t.Fatalf("Merge produced invalid JSON %q", m)
		}
		var om, dm, mm map[string]any
		if json.Unmarshal(old, &om) != nil || json.Unmarshal(delta, &dm) != nil || json.Unmarshal(m, &mm) != nil {
			return
		}
		// Every top-level member of the delta that is not an object ends
		// up verbatim in the merge; every old member survives.
		for k, v := range dm {
			if _, isObj := v.(map[string]any); !isObj && !reflect.DeepEqual(mm[k], v) {
				t.Fatalf("member %q: merged %v, delta %v", k, mm[k], v)
			}
		}
		for k := range om {
			if _, ok := mm[k]; !ok {
				t.Fatalf("member %q lost", k)
			}
		}
		// Applying the diff of (old → merged) to old gives merged back.
		d, _, err := Diff(old, m, nil)
		if err != nil {
			t.Fatalf("Diff: %v", err)
		}
		m2, err := Merge(old, d)
		if err != nil {
			t.Fatalf("Merge of diff: %v", err)
		}
		var mm2 map[string]any
		if err := json.Unmarshal(m2, &mm2); err != nil || !reflect.DeepEqual(mm, mm2) {
			t.Fatalf("round trip: %s vs %s", m, m2)
		}
	})
}
