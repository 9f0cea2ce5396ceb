package aggregate

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"ampsflume/filter"
)

func mustView(t testing.TB, projection, grouping []string, flt string) *View {
	t.Helper()
	cfg := Config{Projection: projection, Grouping: grouping}
	if flt != "" {
		f, err := filter.Compile(flt)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Filter = f.Match
	}
	v, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return v
}

func datas(outs []GroupOutput) []string {
	var s []string
	for _, o := range outs {
		d := string(o.Data)
		if o.Removed {
			d = "removed " + d
		}
		s = append(s, d)
	}
	return s
}

func readLines(t *testing.T, name string) [][]byte {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "examples", "amps-orders", name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	var out [][]byte
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := bytes.TrimSpace(sc.Bytes()); len(l) > 0 {
			out = append(out, append([]byte(nil), l...))
		}
	}
	return out
}

// TestArticleExample feeds the article's 15 orders as SOW inserts and
// checks that the 10 matching ones produce the article's 10 lines.
func TestArticleExample(t *testing.T) {
	v := mustView(t,
		[]string{"/symbol", "avg(/price) as /avg_price", "avg(/price*/qty) as /avg_total"},
		[]string{"/symbol"}, "/symbol IN ('IBM', 'MSFT')")
	var got []string
	for _, m := range readLines(t, "messages.json") {
		got = append(got, datas(v.Apply(nil, m))...)
	}
	var want []string
	for _, l := range readLines(t, "expected-output.jsonl") {
		want = append(want, string(l))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if v.Len() != 2 {
		t.Fatalf("Len = %d", v.Len())
	}
	if kf := v.KeyFields(); len(kf) != 1 || kf[0] != "/symbol" {
		t.Fatalf("KeyFields = %v", kf)
	}
}

func TestFunctions(t *testing.T) {
	docs := []string{
		`{"g":"a","x":1}`,
		`{"g":"a","x":2}`,
		`{"g":"a","x":2}`,
		`{"g":"a","y":7}`, // x NULL: skipped
	}
	tests := []struct {
		proj string
		want string
	}{
		{"COUNT(/x) AS /r", `{"r":3}`},
		{"count(/y) as /r", `{"r":1}`},
		{"SUM(/x) AS /r", `{"r":5}`},
		{"SUM(/x * 1.0) AS /r", `{"r":5.0}`},
		{"AVG(/x) AS /r", `{"r":1.66666666666667}`},
		{"MIN(/x) AS /r", `{"r":1}`},
		{"MAX(/x) AS /r", `{"r":2}`},
		{"COUNT_DISTINCT(/x) AS /r", `{"r":2}`},
		{"STDDEV_POP(/x) AS /r", `{"r":0.471404520791032}`},
		{"STDDEV_SAMP(/x) AS /r", `{"r":0.577350269189626}`},
		{"ANY(/x) AS /r", `{"r":2}`},
		{"UNIQUE(/x) AS /r", `{}`},
		{"UNIQUE(/g) AS /r", `{"r":"a"}`},
		{"GROUP_CONCAT(/x) AS /r", `{"r":"1,2"}`},
		{"GROUP_CONCAT(/x, ' | ') AS /r", `{"r":"1 | 2"}`},
		{"SUM(/nothing) AS /r", `{}`},
		{"COUNT(/nothing) AS /r", `{"r":0}`},
		{"AVG(/nothing) AS /r", `{}`},
		{"MIN(/nothing) AS /r", `{}`},
		{"SUM(/x) / COUNT(/x) AS /r", `{"r":1}`},
		{"SUM(/x) * 1.0 / COUNT(/x) AS /r", `{"r":1.66666666666667}`},
		{"MAX(/x) - MIN(/x) AS /r", `{"r":1}`},
		{"SUM(IF(/x = 2, 1, 0)) AS /r", `{"r":2}`},
		{"UPPER(/g) AS /r", `{"r":"A"}`},
	}
	for _, tc := range tests {
		t.Run(tc.proj, func(t *testing.T) {
			v := mustView(t, []string{tc.proj}, []string{"/g"}, "")
			var last []GroupOutput
			for _, d := range docs {
				last = v.Apply(nil, []byte(d))
			}
			if len(last) != 1 || string(last[0].Data) != tc.want {
				t.Fatalf("got %q want %s", datas(last), tc.want)
			}
		})
	}
}

func TestMixedTypesMinMax(t *testing.T) {
	// The AMPS documentation's example: MIN is 1.3, MAX is 'cat'.
	v := mustView(t, []string{"MIN(/v) AS /min", "MAX(/v) AS /max"}, []string{"/g"}, "")
	var out []GroupOutput
	for _, val := range []string{`24`, `"020"`, `"cat"`, `75`, `1.3`, `200`, `"75"`, `"42"`} {
		out = v.Apply(nil, []byte(`{"g":1,"v":`+val+`}`))
	}
	if got := string(out[0].Data); got != `{"min":1.3,"max":"cat"}` {
		t.Fatalf("got %s", got)
	}
}

func TestNaN(t *testing.T) {
	v := mustView(t, []string{"SUM(/v) AS /s", "AVG(/v) AS /a", "COUNT(/v) AS /c", "MAX(/v) AS /m", "STDDEV_POP(/v) AS /d"}, []string{"/g"}, "")
	v.Apply(nil, []byte(`{"g":1,"v":2}`))
	out := v.Apply(nil, []byte(`{"g":1,"v":"x"}`))
	if got := string(out[0].Data); got != `{"s":null,"a":null,"c":2,"m":"x","d":null}` {
		t.Fatalf("with non-numeric: %s", got)
	}
	out = v.Apply([]byte(`{"g":1,"v":"x"}`), []byte(`{"g":1,"v":"3"}`))
	if got := string(out[0].Data); got != `{"s":5,"a":2.5,"c":2,"m":"3","d":0.5}` {
		t.Fatalf("after replacing it: %s", got)
	}
}

func TestGroupMoves(t *testing.T) {
	v := mustView(t, []string{"/sym", "SUM(/q) AS /total", "COUNT(/q) AS /n", "MAX(/q) AS /max", "/note"}, []string{"/sym"}, "/q > 0")
	steps := []struct {
		old, new string
		want     []string
	}{
		{"", `{"sym":"A","q":5,"note":"first"}`, []string{`{"sym":"A","total":5,"n":1,"max":5,"note":"first"}`}},
		{"", `{"sym":"A","q":7}`, []string{`{"sym":"A","total":12,"n":2,"max":7}`}},
		{"", `{"sym":"B","q":1,"note":"b"}`, []string{`{"sym":"B","total":1,"n":1,"max":1,"note":"b"}`}},
		// Identical republish still reports the group.
		{`{"sym":"B","q":1,"note":"b"}`, `{"sym":"B","q":1,"note":"b"}`, []string{`{"sym":"B","total":1,"n":1,"max":1,"note":"b"}`}},
		// Move a record from A to B: A first, then B.
		{`{"sym":"A","q":7}`, `{"sym":"B","q":7,"note":"moved"}`, []string{
			`{"sym":"A","total":5,"n":1,"max":5}`,
			`{"sym":"B","total":8,"n":2,"max":7,"note":"moved"}`,
		}},
		// Leave the filter: the group shrinks; entering does the reverse.
		{`{"sym":"B","q":7,"note":"moved"}`, `{"sym":"B","q":-1}`, []string{`{"sym":"B","total":1,"n":1,"max":1,"note":"moved"}`}},
		{`{"sym":"B","q":-1}`, `{"sym":"B","q":3}`, []string{`{"sym":"B","total":4,"n":2,"max":3}`}},
		// A non-matching change touches nothing.
		{"", `{"sym":"C","q":0}`, nil},
		// The last record of A leaves: A is removed with its last record.
		{`{"sym":"A","q":5,"note":"first"}`, "", []string{`removed {"sym":"A","total":5,"n":1,"max":5}`}},
		// Delete inside B: MAX falls back to the next value; plain fields
		// keep the last record processed.
		{`{"sym":"B","q":3}`, "", []string{`{"sym":"B","total":1,"n":1,"max":1}`}},
		// Replace within the same group when it is the only record.
		{`{"sym":"B","q":1,"note":"b"}`, `{"sym":"B","q":9}`, []string{`{"sym":"B","total":9,"n":1,"max":9}`}},
	}
	for i, s := range steps {
		var o, n []byte
		if s.old != "" {
			o = []byte(s.old)
		}
		if s.new != "" {
			n = []byte(s.new)
		}
		got := datas(v.Apply(o, n))
		if fmt.Sprint(got) != fmt.Sprint(s.want) {
			t.Fatalf("step %d: got %q want %q", i, got, s.want)
		}
	}
	snap := datas(v.Snapshot())
	if fmt.Sprint(snap) != fmt.Sprint([]string{`{"sym":"B","total":9,"n":1,"max":9}`}) {
		t.Fatalf("snapshot %q", snap)
	}
}

func TestMultiGroupingAndNesting(t *testing.T) {
	v := mustView(t, []string{"/a", "/b AS /k/b", "SUM(/x) AS /k/sum", "COUNT(/x) AS [/n x]"}, []string{"/a", "/b"}, "")
	v.Apply(nil, []byte(`{"a":"1","b":2,"x":1.5}`))
	out := v.Apply(nil, []byte(`{"a":"1","b":2,"x":2.5}`))
	if got := string(out[0].Data); got != `{"a":"1","k":{"b":2,"sum":4.0},"n x":2}` {
		t.Fatalf("got %s", got)
	}
	out = v.Apply(nil, []byte(`{"a":"1","b":3,"x":1}`))
	if got := string(out[0].Data); got != `{"a":"1","k":{"b":3,"sum":1},"n x":1}` {
		t.Fatalf("got %s", got)
	}
	if v.Len() != 2 {
		t.Fatalf("Len %d", v.Len())
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		proj, group []string
		msg         string
	}{
		{nil, []string{"/a"}, "projection is empty"},
		{[]string{"/a"}, nil, "grouping is empty"},
		{[]string{"avg(/x)"}, []string{"/a"}, "needs AS"},
		{[]string{"/a", "/b as /a"}, []string{"/a"}, "twice"},
		{[]string{"/a as /k", "/b as /k/x"}, []string{"/a"}, "overlaps"},
		{[]string{"avg(sum(/x)) as /y"}, []string{"/a"}, "nested"},
		{[]string{"avg(/x, /y) as /y"}, []string{"/a"}, "one argument"},
		{[]string{"group_concat(/x, /y) as /y"}, []string{"/a"}, "string literal"},
		{[]string{"/a + sum(/x) as /y"}, []string{"/a"}, "mix"},
		{[]string{"avg(/x as /y"}, []string{"/a"}, "needs AS"},
		{[]string{"avg(/x as /y) as /z"}, []string{"/a"}, ""},
		{[]string{"/x as 5"}, []string{"/a"}, "not a path"},
		{[]string{"/a"}, []string{"upper(/a)"}, "not a path"},
		{[]string{"avg(/x +) as /y"}, []string{"/a"}, ""},
	}
	for _, tc := range tests {
		_, err := New(Config{Projection: tc.proj, Grouping: tc.group})
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("New(%q, %q) = %v, want error containing %q", tc.proj, tc.group, err, tc.msg)
		}
	}
}

func TestAppendValue(t *testing.T) {
	tests := []struct {
		v    filter.Value
		want string
	}{
		{filter.NumberValue(6215), "6215.0"},
		{filter.NumberValue(62.15), "62.15"},
		{filter.NumberValue(186.89 / 3), "62.2966666666667"},
		{filter.NumberValue(0.1 + 0.2), "0.3"},
		{filter.NumberValue(1e20), "1e+20"},
		{filter.NumberValue(-0.5), "-0.5"},
		{filter.NumberValue(math.NaN()), "null"},
		{filter.NumberValue(math.Inf(1)), "null"},
		{filter.IntValue(45), "45"},
		{filter.IntValue(-3), "-3"},
		{filter.StringValue("a\"b\\\n\x01é\xff"), `"a\"b\\\n\u0001é` + "\ufffd" + `"`},
		{filter.BoolValue(true), "true"},
	}
	for _, tc := range tests {
		if got := string(AppendValue(nil, tc.v)); got != tc.want {
			t.Errorf("AppendValue(%v) = %s want %s", tc.v, got, tc.want)
		}
	}
}

// TestAgainstRescan applies random changes and checks every output against
// a from-scratch computation over the current records.
func TestAgainstRescan(t *testing.T) {
	proj := []string{"/g", "SUM(/x) AS /sum", "COUNT(/x) AS /cnt", "MIN(/x) AS /min", "MAX(/x) AS /max", "COUNT_DISTINCT(/x) AS /cd",
		"AVG(/x) AS /avg", "UNIQUE(/x % 2) AS /parity", "GROUP_CONCAT(/x / 10) AS /tens", "MAX(/x) - MIN(/x) AS /range"}
	v := mustView(t, proj, []string{"/g"}, "/x >= 0")
	records := map[int][]byte{}
	seed := uint64(1)
	rnd := func(n int) int {
		seed = seed*6364136223846793005 + 1442695040888963407
		return int(seed>>33) % n
	}
	for i := 0; i < 1200; i++ {
		k := rnd(50)
		var nd []byte
		if rnd(5) > 0 {
			nd = []byte(fmt.Sprintf(`{"g":%d,"x":%d}`, rnd(4), rnd(40)-5))
		}
		old := records[k]
		if old == nil && nd == nil {
			continue
		}
		outs := v.Apply(old, nd)
		if nd == nil {
			delete(records, k)
		} else {
			records[k] = nd
		}
		for _, o := range outs {
			want := rescan(t, proj, records, o.Data)
			if o.Removed {
				if want != "" {
					t.Fatalf("step %d: group removed but rescan has %s", i, want)
				}
				continue
			}
			if string(o.Data) != want {
				t.Fatalf("step %d: incremental %s, rescan %s", i, o.Data, want)
			}
		}
	}
}

func rescan(t *testing.T, proj []string, records map[int][]byte, out []byte) string {
	v := mustView(t, proj, []string{"/g"}, "/x >= 0")
	grp, _ := filter.CompileExpr("/g")
	want := grp.Eval(out)
	var last string
	for _, r := range records {
		if c, ok := filter.Compare(grp.Eval(r), want); ok && c == 0 {
			if o := v.Apply(nil, r); len(o) > 0 {
				last = string(o[0].Data)
			}
		}
	}
	return last
}

// benchStates are built once per size: preloading 1M records takes
// seconds, and a benchmark function runs more than once.
var (
	benchMu     sync.Mutex
	benchStates = map[int]*benchState{}
)

type benchState struct {
	v    *View
	docs [][]byte
}

// BenchmarkApply measures record replacements with AVG, SUM, MIN and MAX:
// the target case is 1M records over 10K groups; the small case shows the
// cost without cache misses.
func BenchmarkApply(b *testing.B) {
	for _, sz := range []struct{ records, groups int }{{1_000_000, 10_000}, {10_000, 100}} {
		b.Run(fmt.Sprintf("records=%d/groups=%d", sz.records, sz.groups), func(b *testing.B) {
			benchApply(b, sz.records, sz.groups, false)
		})
	}
	// Grouping by a string field (a symbol, as in the article's example).
	b.Run("records=100000/groups=1000/symbols", func(b *testing.B) { benchApply(b, 100_000, 1_000, true) })
}

func benchApply(b *testing.B, records, groups int, symbols bool) {
	doc := func(k, g int, p string, q int) []byte {
		if symbols {
			return []byte(fmt.Sprintf(`{"k":%d,"g":"SYM%05d","p":%s,"q":%d}`, k, g, p, q))
		}
		return []byte(fmt.Sprintf(`{"k":%d,"g":%d,"p":%s,"q":%d}`, k, g, p, q))
	}
	benchMu.Lock()
	st := benchStates[records]
	if st == nil {
		st = &benchState{
			v:    mustView(b, []string{"/g", "AVG(/p) AS /avg", "SUM(/q) AS /sum", "MIN(/p) AS /min", "MAX(/p) AS /max"}, []string{"/g"}, ""),
			docs: make([][]byte, records),
		}
		for i := range st.docs {
			st.docs[i] = doc(i, i%groups, fmt.Sprintf("%d.25", i%997), i%13)
			st.v.Add(st.docs[i])
		}
		benchStates[records] = st
	}
	benchMu.Unlock()
	v, docs := st.v, st.docs
	updates := make([][]byte, b.N)
	for i := range updates {
		k := (i * 7919) % records
		updates[i] = doc(k, k%groups, fmt.Sprintf("%d.5", i%1009), i%17)
	}
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := (i * 7919) % records
		v.Apply(docs[k], updates[i])
		docs[k] = updates[i]
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "publishes/s")
	// On a shared machine wall time includes waiting for a core; the
	// process's CPU time (GC included) gives the cost per CPU-second.
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "publishes/cpu-s")
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestAddMatchesApply builds one view with Apply and one with Add from the
// same records, then applies the same random changes to both: snapshots
// and every output, including the record reported with a removal, agree.
func TestAddMatchesApply(t *testing.T) {
	proj := []string{"/g", "SUM(/x) AS /sum", "MIN(/x) AS /min", "MAX(/x) AS /max", "AVG(/x) AS /avg", "/note"}
	seed := uint64(7)
	rnd := func(n int) int {
		seed = seed*6364136223846793005 + 1442695040888963407
		return int(seed>>33) % n
	}
	doc := func() []byte {
		return []byte(fmt.Sprintf(`{"g":"g%d","x":%d.5,"note":"n%d"}`, rnd(6), rnd(30), rnd(3)))
	}
	for _, snapshotFirst := range []bool{false, true} {
		applied := mustView(t, proj, []string{"/g"}, "/x > 2")
		added := mustView(t, proj, []string{"/g"}, "/x > 2")
		records := map[int][]byte{}
		for k := 0; k < 40; k++ {
			records[k] = doc()
			applied.Apply(nil, records[k])
			added.Add(records[k])
		}
		if snapshotFirst {
			if a, b := datas(applied.Snapshot()), datas(added.Snapshot()); fmt.Sprint(a) != fmt.Sprint(b) {
				t.Fatalf("snapshots differ:\n%q\n%q", a, b)
			}
		}
		// A group built by Add whose only record goes: the removal reports
		// the record the group had.
		solo := []byte(`{"g":"solo","x":9.5,"note":"s"}`)
		applied.Apply(nil, solo)
		added.Add(solo)
		if a, b := datas(applied.Apply(solo, nil)), datas(added.Apply(solo, nil)); fmt.Sprint(a) != fmt.Sprint(b) {
			t.Fatalf("removal: Apply-built %q, Add-built %q", a, b)
		}
		for i := 0; i < 400; i++ {
			k := rnd(40)
			var nd []byte
			if rnd(3) > 0 {
				nd = doc()
			}
			old := records[k]
			if old == nil && nd == nil {
				continue
			}
			a, b := datas(applied.Apply(old, nd)), datas(added.Apply(old, nd))
			if fmt.Sprint(a) != fmt.Sprint(b) {
				t.Fatalf("snapshotFirst=%v step %d: Apply-built %q, Add-built %q", snapshotFirst, i, a, b)
			}
			records[k] = nd
		}
		if a, b := datas(applied.Snapshot()), datas(added.Snapshot()); fmt.Sprint(a) != fmt.Sprint(b) {
			t.Fatalf("final snapshots differ:\n%q\n%q", a, b)
		}
	}
}

// TestGroupShapes covers every way a group's state is allocated (inside
// the group for small views, apart for large ones) with views of 1 to 14
// aggregates, each checked against sums computed here.
func TestGroupShapes(t *testing.T) {
	docs := []string{`{"g":"a","x":1}`, `{"g":"b","x":10}`, `{"g":"a","x":4}`}
	for n := 1; n <= 14; n++ {
		proj := []string{"/g"}
		for k := 0; k < n; k++ {
			proj = append(proj, fmt.Sprintf("SUM(/x + %d) AS /s%d", k, k))
		}
		v := mustView(t, proj, []string{"/g"}, "")
		var last []GroupOutput
		for _, d := range docs {
			last = v.Apply(nil, []byte(d))
		}
		// Replace a record within its group, then move one to the other.
		v.Apply([]byte(docs[0]), []byte(`{"g":"a","x":2}`))
		last = v.Apply([]byte(docs[1]), []byte(`{"g":"a","x":3}`))
		record := func(g string, sum, count int) string {
			var b strings.Builder
			fmt.Fprintf(&b, `{"g":%q`, g)
			for k := 0; k < n; k++ {
				fmt.Fprintf(&b, `,"s%d":%d`, k, sum+count*k)
			}
			return b.String() + "}"
		}
		// b is removed with its last record; a holds 2, 4 and 3.
		want := []string{"removed " + record("b", 10, 1), record("a", 9, 3)}
		if got := datas(last); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%d aggregates: got %q want %q", n, got, want)
		}
	}
}

// TestDocumentsNotRetained feeds one view from a buffer that is overwritten
// after every change and another from copies: what the view keeps from a
// document (group keys, MIN/MAX and distinct strings, plain fields) must
// not share its memory.
func TestDocumentsNotRetained(t *testing.T) {
	proj := []string{"/g", "/note", "MIN(/s) AS /min", "MAX(/s) AS /max", "GROUP_CONCAT(/s) AS /all", "ANY(/s) AS /any", "COUNT_DISTINCT(/s) AS /cd"}
	reused := mustView(t, proj, []string{"/g"}, "")
	copied := mustView(t, proj, []string{"/g"}, "")
	seed := uint64(3)
	rnd := func(n int) int {
		seed = seed*6364136223846793005 + 1442695040888963407
		return int(seed>>33) % n
	}
	records := map[int]string{}
	var oldBuf, newBuf []byte
	for i := 0; i < 600; i++ {
		k := rnd(30)
		var nd string
		if rnd(4) > 0 {
			// Numeric strings too: MIN/MAX keep their text apart.
			nd = fmt.Sprintf(`{"g":"grp%d","note":"note%d","s":"%s%d"}`, rnd(4), rnd(9), []string{"v", ""}[rnd(2)], rnd(40))
		}
		od := records[k]
		if od == "" && nd == "" {
			continue
		}
		var o, n []byte
		if od != "" {
			oldBuf = append(oldBuf[:0], od...)
			o = oldBuf
		}
		if nd != "" {
			newBuf = append(newBuf[:0], nd...)
			n = newBuf
		}
		got := datas(reused.Apply(o, n))
		for j := range oldBuf {
			oldBuf[j] = 'X'
		}
		for j := range newBuf {
			newBuf[j] = 'Y'
		}
		var oc, nc []byte
		if od != "" {
			oc = []byte(od)
		}
		if nd != "" {
			nc = []byte(nd)
		}
		if want := datas(copied.Apply(oc, nc)); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("step %d: from a reused buffer %q, from copies %q", i, got, want)
		}
		records[k] = nd
	}
	if a, b := datas(reused.Snapshot()), datas(copied.Snapshot()); fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatalf("snapshots differ:\n%q\n%q", a, b)
	}
}
