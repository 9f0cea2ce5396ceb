package conflate

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ampsflume/ampserver/aggregate"
	"ampsflume/filter"
)

func exampleLines(t *testing.T, name string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "examples", "amps-orders", name))
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if l := bytes.TrimSpace(sc.Bytes()); len(l) > 0 {
			out = append(out, append([]byte(nil), l...))
		}
	}
	return out
}

// TestArticlePipeline reproduces the article's output at the level of the
// aggregation and conflation packages: 15 orders published one per second
// of a fake clock into an aggregated view, conflated per group for 1 s.
func TestArticlePipeline(t *testing.T) {
	f, err := filter.Compile("/symbol IN ('IBM', 'MSFT')")
	if err != nil {
		t.Fatal(err)
	}
	v, err := aggregate.New(aggregate.Config{
		Projection: []string{"/symbol", "avg(/price) as /avg_price", "avg(/price*/qty) as /avg_total"},
		Grouping:   []string{"/symbol"},
		Filter:     f.Match,
	})
	if err != nil {
		t.Fatal(err)
	}
	clk := newFakeClock()
	var got []string
	c := New(Config[[]byte]{Interval: time.Second, Clock: clk, Deliver: func(it Item[[]byte]) {
		got = append(got, string(it.Value))
	}})
	t.Cleanup(c.Close)
	for i, m := range exampleLines(t, "messages.json") {
		if i > 0 {
			clk.Advance(time.Second)
		}
		for _, o := range v.Apply(nil, m) {
			c.Offer(o.Key, o.Data)
		}
	}
	clk.Advance(time.Second)
	var want []string
	for _, l := range exampleLines(t, "expected-output.jsonl") {
		want = append(want, string(l))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
