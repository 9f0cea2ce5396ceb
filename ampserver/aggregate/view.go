package aggregate

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"ampsflume/filter"
)

// Evaluator evaluates a compiled expression against a JSON document.
// *filter.Expr implements it.
type Evaluator interface {
	Eval(doc []byte) filter.Value
}

// CompileFunc compiles an expression of the AMPS expression language.
type CompileFunc func(expr string) (Evaluator, error)

// Config describes an aggregated view.
type Config struct {
	Projection []string // entries as in the projection option
	Grouping   []string // grouping paths
	// Filter selects the source records that contribute; nil means all.
	// It must be deterministic: Apply re-evaluates it on the old record.
	Filter func(doc []byte) bool
	// Compile compiles expressions; nil means the filter package's
	// expression compiler.
	Compile CompileFunc
}

// GroupOutput is the projected record of one group after a change.
type GroupOutput struct {
	// Key identifies the group for as long as it exists: use it as the
	// record key (conflation, SOW key of the view record).
	Key string
	// Data is the projected JSON record. For a Removed group it is the
	// last record produced for the group.
	Data []byte
	// Removed is set when the group's last contributing record left it.
	Removed bool
}

// View is an aggregation maintained incrementally from record changes.
// It is not safe for concurrent use: callers serialise Apply and Snapshot
// (the server applies changes of a topic in publish order anyway).
type View struct {
	entries  []entry
	cols     []column
	grouping []Evaluator
	keyOut   []string // output names of entries that are plain grouping paths
	layout   []*node
	match    func([]byte) bool
	groups   map[string]*group
	keyBuf   []byte
	vals     []filter.Value // emit's scratch
	plain    []int          // indexes of the plain entries evaluated per record
	fromKey  [][2]int       // plain entries that are grouping fields: {entry, grouping}
	gvals    []filter.Value // grouping values of the last groupKey call
	nextSeq  uint64
}

type column struct {
	src   string
	expr  Evaluator
	needs needs
}

type group struct {
	key     string
	seq     uint64 // creation order, for Snapshot
	n       int    // contributing records
	cols    []colState
	last    []filter.Value // per entry: the value of a plain entry on the last record processed
	lastOut []byte
}

// node is one output field; children make nested objects.
type node struct {
	name     string
	prefix   []byte // `"name":`, encoded once
	entry    int    // -1 for an object node
	children []*node
}

// New compiles a view.
func New(cfg Config) (*View, error) {
	compile := cfg.Compile
	if compile == nil {
		compile = defaultCompile
	}
	if len(cfg.Projection) == 0 {
		return nil, errors.New("projection is empty")
	}
	if len(cfg.Grouping) == 0 {
		return nil, errors.New("grouping is empty")
	}
	v := &View{match: cfg.Filter, groups: make(map[string]*group)}
	for _, g := range cfg.Grouping {
		if _, err := filter.ParsePath(g); err != nil {
			return nil, fmt.Errorf("grouping %q: not a path: %w", g, err)
		}
		e, err := compile(g)
		if err != nil {
			return nil, fmt.Errorf("grouping %q: %w", g, err)
		}
		v.grouping = append(v.grouping, e)
	}
	colIndex := map[string]int{}
	addCol := func(arg string, nd needs) (int, error) {
		if i, ok := colIndex[arg]; ok {
			v.cols[i].needs |= nd
			return i, nil
		}
		e, err := compile(arg)
		if err != nil {
			return 0, err
		}
		colIndex[arg] = len(v.cols)
		v.cols = append(v.cols, column{src: arg, expr: e, needs: nd})
		return len(v.cols) - 1, nil
	}
	outs := map[string]bool{}
	for _, p := range cfg.Projection {
		en, err := compileEntry(p, compile, addCol)
		if err != nil {
			return nil, fmt.Errorf("projection %q: %w", p, err)
		}
		name := en.out.String()
		if outs[name] {
			return nil, fmt.Errorf("projection %q: output %s is projected twice", p, name)
		}
		outs[name] = true
		v.entries = append(v.entries, en)
	}
	for i := range v.entries {
		if err := v.place(i); err != nil {
			return nil, err
		}
		en := &v.entries[i]
		if en.kind != entryPlain {
			continue
		}
		src := exprOf(en.src)
		grouped := -1
		for j, g := range cfg.Grouping {
			if src == strings.TrimSpace(g) {
				grouped = j
				v.keyOut = append(v.keyOut, en.out.String())
				break
			}
		}
		if grouped >= 0 {
			// The grouping already evaluated it.
			v.fromKey = append(v.fromKey, [2]int{i, grouped})
		} else {
			v.plain = append(v.plain, i)
		}
	}
	return v, nil
}

func exprOf(src string) string {
	e, _, _ := splitAs(strings.TrimSpace(src))
	return e
}

func compileEntry(p string, compile CompileFunc, addCol func(string, needs) (int, error)) (entry, error) {
	p = strings.TrimSpace(p)
	en := entry{src: p}
	expr, out, hasAs := splitAs(p)
	if !hasAs {
		if _, err := filter.ParsePath(p); err != nil {
			return en, errors.New("an expression needs AS /name")
		}
		out = p
	}
	if expr == "" {
		return en, errors.New("empty expression")
	}
	op, err := outputPath(out)
	if err != nil {
		return en, err
	}
	en.out = op
	calls, err := findCalls(expr)
	if err != nil {
		return en, err
	}
	if len(calls) == 0 {
		e, err := compile(expr)
		if err != nil {
			return en, err
		}
		en.kind, en.expr = entryPlain, e
		return en, nil
	}
	mk := func(c aggCall) (call, error) {
		want := 1
		if c.fn == fnGroupConcat && len(c.args) == 2 {
			want = 2
		}
		if len(c.args) != want || c.args[0] == "" {
			return call{}, fmt.Errorf("%s takes one argument", expr[c.start:c.end])
		}
		if inner, _ := findCalls(c.args[0]); len(inner) > 0 {
			return call{}, fmt.Errorf("%s: aggregates cannot be nested", expr[c.start:c.end])
		}
		k := call{fn: c.fn, delim: ","}
		if want == 2 {
			d, err := stringLiteral(c.args[1])
			if err != nil {
				return call{}, err
			}
			k.delim = d
		}
		col, err := addCol(c.args[0], c.fn.needs())
		if err != nil {
			return call{}, err
		}
		k.col = col
		return k, nil
	}
	if len(calls) == 1 && calls[0].start == 0 && calls[0].end == len(expr) {
		k, err := mk(calls[0])
		if err != nil {
			return en, err
		}
		en.kind, en.agg = entryAgg, k
		return en, nil
	}
	// An expression over aggregates: replace each call with a placeholder
	// field and evaluate the rest against a document of aggregate results.
	var b strings.Builder
	prev := 0
	for i, c := range calls {
		k, err := mk(c)
		if err != nil {
			return en, err
		}
		en.calls = append(en.calls, k)
		b.WriteString(expr[prev:c.start])
		b.WriteString("/__agg" + strconv.Itoa(i))
		prev = c.end
	}
	b.WriteString(expr[prev:])
	outer := b.String()
	rest := outer
	for i := range calls {
		rest = strings.ReplaceAll(rest, "/__agg"+strconv.Itoa(i), "0")
	}
	if hasFieldRef(rest) {
		return en, errors.New("an expression cannot mix aggregates with non-aggregated fields")
	}
	e, err := compile(outer)
	if err != nil {
		return en, err
	}
	en.kind, en.expr = entryOuter, e
	return en, nil
}

// outputPath validates an output path: /a/b or [/name with spaces], with
// no array indexes.
func outputPath(s string) (filter.Path, error) {
	p, err := filter.ParsePath(s)
	if err != nil {
		return p, fmt.Errorf("output %q is not a path: %w", s, err)
	}
	if strings.Contains(p.String(), "][") || strings.HasSuffix(p.String(), "]") && !strings.HasPrefix(p.String(), "[/") {
		return p, fmt.Errorf("output %q cannot index an array", s)
	}
	return p, nil
}

// steps splits a canonical path string (see filter.Path.String) into names.
func steps(p string) []string {
	var out []string
	for i := 0; i < len(p); {
		if strings.HasPrefix(p[i:], "[/") {
			j := strings.IndexByte(p[i:], ']')
			out = append(out, p[i+2:i+j])
			i += j + 1
			continue
		}
		j := strings.IndexAny(p[i+1:], "/[")
		if j < 0 {
			out = append(out, p[i+1:])
			break
		}
		out = append(out, p[i+1:i+1+j])
		i += 1 + j
	}
	return out
}

// place adds entry i to the output layout, merging shared prefixes into
// one nested object in first-appearance order.
func (v *View) place(i int) error {
	names := steps(v.entries[i].out.String())
	level := &v.layout
	for d, name := range names {
		var found *node
		for _, n := range *level {
			if n.name == name {
				found = n
			}
		}
		last := d == len(names)-1
		switch {
		case found == nil:
			n := &node{name: name, entry: -1, prefix: append(appendString(nil, name), ':')}
			if last {
				n.entry = i
			}
			*level = append(*level, n)
			found = n
		case last || found.entry >= 0:
			return fmt.Errorf("projection %q: output %s overlaps another output", v.entries[i].src, v.entries[i].out.String())
		}
		level = &found.children
	}
	return nil
}

// KeyFields returns the output paths of the projected grouping fields:
// the key of the view's records, sent with every delta.
func (v *View) KeyFields() []string { return append([]string(nil), v.keyOut...) }

// Len returns the number of non-empty groups.
func (v *View) Len() int { return len(v.groups) }

func (v *View) matches(doc []byte) bool { return v.match == nil || v.match(doc) }

// groupKey encodes the grouping values of doc; the encoding is injective
// (each value is typed and length-prefixed). The result aliases a buffer
// reused by the next call: index maps with string(key), which does not
// allocate.
func (v *View) groupKey(doc []byte) []byte {
	b := v.keyBuf[:0]
	v.gvals = v.gvals[:0]
	for _, g := range v.grouping {
		val := g.Eval(doc)
		v.gvals = append(v.gvals, val)
		switch val.Kind {
		case filter.Null:
			b = append(b, 'z')
		case filter.Bool:
			b = strconv.AppendBool(append(b, 'b'), val.Bool)
		case filter.Number:
			// 2 and 2.0 are one group; -0 and 0 too.
			bits := math.Float64bits(val.Num + 0)
			b = append(b, 'n', byte(bits>>56), byte(bits>>48), byte(bits>>40), byte(bits>>32),
				byte(bits>>24), byte(bits>>16), byte(bits>>8), byte(bits))
		default:
			b = strconv.AppendInt(append(b, 's'), int64(len(val.Str)), 10)
			b = append(append(b, ':'), val.Str...)
		}
		b = append(b, 0)
	}
	v.keyBuf = b
	return b
}

// Apply folds one record change into the view: old == nil is an insert,
// new == nil a delete, both set a replacement (the record may move between
// groups or into or out of the filter). It returns the projected record of
// every group the change touched: the group the record left first, then
// the group it joined. A republish with identical values still reports
// its group.
func (v *View) Apply(oldDoc, newDoc []byte) []GroupOutput {
	var gOld, gNew *group
	if oldDoc != nil && v.matches(oldDoc) {
		if g, ok := v.groups[string(v.groupKey(oldDoc))]; ok {
			gOld = g
			g.n--
			for i := range v.cols {
				g.cols[i].update(v.cols[i].expr.Eval(oldDoc), -1, v.cols[i].needs)
			}
		}
	}
	if newDoc != nil && v.matches(newDoc) {
		kb := v.groupKey(newDoc)
		g, ok := v.groups[string(kb)]
		if !ok {
			k := string(kb)
			g = v.newGroup(k)
			v.groups[k] = g
		}
		gNew = g
		g.n++
		for i := range v.cols {
			g.cols[i].update(v.cols[i].expr.Eval(newDoc), +1, v.cols[i].needs)
		}
		for _, i := range v.plain {
			g.last[i] = v.entries[i].expr.Eval(newDoc)
		}
		for _, m := range v.fromKey {
			g.last[m[0]] = v.gvals[m[1]]
		}
	}
	var out []GroupOutput
	if gOld != nil && gOld != gNew {
		if gOld.n <= 0 {
			delete(v.groups, gOld.key)
			out = append(out, GroupOutput{Key: gOld.key, Data: gOld.lastOut, Removed: true})
		} else {
			out = append(out, v.emit(gOld))
		}
	}
	if gNew != nil {
		out = append(out, v.emit(gNew))
	}
	return out
}

func (v *View) newGroup(k string) *group {
	v.nextSeq++
	g := &group{key: k, seq: v.nextSeq, cols: make([]colState, len(v.cols)), last: make([]filter.Value, len(v.entries))}
	for i, c := range v.cols {
		g.cols[i] = newColState(c.needs)
	}
	return g
}

// Snapshot returns the current record of every group in the order the
// groups were created, so that queries are repeatable.
func (v *View) Snapshot() []GroupOutput {
	gs := make([]*group, 0, len(v.groups))
	for _, g := range v.groups {
		gs = append(gs, g)
	}
	sort.Slice(gs, func(i, j int) bool { return gs[i].seq < gs[j].seq })
	out := make([]GroupOutput, 0, len(gs))
	for _, g := range gs {
		if g.lastOut == nil {
			v.emit(g)
		}
		out = append(out, GroupOutput{Key: g.key, Data: g.lastOut})
	}
	return out
}

func (v *View) emit(g *group) GroupOutput {
	if cap(v.vals) < len(v.entries) {
		v.vals = make([]filter.Value, len(v.entries))
	}
	vals := v.vals[:len(v.entries)]
	for i := range v.entries {
		en := &v.entries[i]
		switch en.kind {
		case entryPlain:
			vals[i] = g.last[i]
		case entryAgg:
			vals[i] = g.cols[en.agg.col].result(en.agg.fn, en.agg.delim)
		case entryOuter:
			vals[i] = en.expr.Eval(v.aggDoc(g, en.calls))
		}
	}
	b := v.appendNodes(make([]byte, 0, max(64, len(g.lastOut)+8)), v.layout, vals)
	clear(vals) // drop references to strings until the next emit
	g.lastOut = b
	return GroupOutput{Key: g.key, Data: b}
}

// aggDoc builds the document an outer expression is evaluated against:
// {"__agg0":..., "__agg1":...}. Doubles print with full precision and a
// decimal point so they stay doubles; NaN travels as a non-numeric string,
// which arithmetic turns back into NaN.
func (v *View) aggDoc(g *group, calls []call) []byte {
	b := []byte{'{'}
	for i, c := range calls {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `"__agg`...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, `":`...)
		r := g.cols[c.col].result(c.fn, c.delim)
		switch {
		case r.Kind == filter.Number && (math.IsNaN(r.Num) || math.IsInf(r.Num, 0)):
			b = append(b, `"NaN"`...)
		case r.Kind == filter.Number && !r.IsInt:
			s := strconv.FormatFloat(r.Num, 'g', -1, 64)
			b = append(b, s...)
			if !strings.ContainsAny(s, ".e") {
				b = append(b, ".0"...)
			}
		case r.Kind == filter.Null:
			b = append(b, "null"...)
		default:
			b = AppendValue(b, r)
		}
	}
	return append(b, '}')
}

// appendNodes writes one JSON object level; NULL fields are omitted (a
// missing field and NULL are the same thing in AMPS), and so are nested
// objects left empty.
func (v *View) appendNodes(b []byte, nodes []*node, vals []filter.Value) []byte {
	b = append(b, '{')
	first := true
	for _, n := range nodes {
		mark := len(b)
		if !first {
			b = append(b, ',')
		}
		b = append(b, n.prefix...)
		if n.entry >= 0 {
			if vals[n.entry].Kind == filter.Null {
				b = b[:mark]
				continue
			}
			b = AppendValue(b, vals[n.entry])
		} else {
			inner := len(b)
			b = v.appendNodes(b, n.children, vals)
			if len(b)-inner == 2 {
				b = b[:mark]
				continue
			}
		}
		first = false
	}
	return append(b, '}')
}
