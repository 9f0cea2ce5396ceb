package aggregate

import (
	"encoding/json"
	"testing"
)

// FuzzNew compiles fuzzed projection entries and applies a few records: no
// input may panic, and every record produced must be valid JSON.
func FuzzNew(f *testing.F) {
	for _, s := range []string{
		"avg(/price*/qty) as /avg_total",
		"/symbol",
		"SUM(/x) / COUNT(/x) AS /r",
		"GROUP_CONCAT(/x, ' | ') AS /r",
		"MAX(/x) - MIN(/x) AS [/a b]",
		"IF(SUM(/q) > 2, 'big', 'small') as /size",
		"count(/a) as /a/b",
	} {
		f.Add(s)
	}
	docs := [][]byte{
		[]byte(`{"symbol":"A","x":1,"q":2.5,"price":1,"qty":3}`),
		[]byte(`{"symbol":"A","x":"cat","a":{"b":1}}`),
		[]byte(`{"symbol":"B","x":null,"a b":2}`),
	}
	f.Fuzz(func(t *testing.T, entry string) {
		v, err := New(Config{Projection: []string{"/symbol", entry}, Grouping: []string{"/symbol"}})
		if err != nil {
			return
		}
		var prev []byte
		for _, d := range docs {
			for _, o := range v.Apply(prev, d) {
				if !json.Valid(o.Data) {
					t.Fatalf("entry %q produced invalid JSON %q", entry, o.Data)
				}
			}
			prev = d
		}
		v.Apply(prev, nil)
	})
}
