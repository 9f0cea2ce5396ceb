package aggregate

import (
	"bytes"
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
	vals     []filter.Value // emit's scratch
	plain    []int          // indexes of the plain entries evaluated per record
	fromKey  [][2]int       // plain entries that are grouping fields: {entry, grouping}
	nextSeq  uint64

	// Per-document evaluation. Slots are the grouping values, then the
	// columns, then the plain entries: a replaced record needs only the
	// first nOld, the record replacing it all of them. Slots that are
	// plain field paths are read in one pass over the document (fsOld,
	// fsNew: the same paths, fsNew with the plain entries' as well); their
	// strings alias the document and are copied only when kept.
	slots        []slot
	nOld         int
	fsOld, fsNew *filter.FieldSet
	fsVals       []filter.Value
	oldVals      []filter.Value
	newVals      []filter.Value
	oldKey       []byte
	newKey       []byte
	distBuf      []byte        // scratch for distinct keys
	out          []GroupOutput // Apply's result, reused
}

// slot is one value read from each document: from the field set when fs
// >= 0, otherwise by evaluating ev.
type slot struct {
	ev Evaluator
	fs int
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
	ents    []entState // per entry
	lastOut []byte
	dirty   bool // changed by Add since lastOut was produced
}

// entState is what a group keeps per projection entry, in one slice so
// that producing a record touches one allocation.
type entState struct {
	last filter.Value // plain entries: the value on the last record processed
	dbl  dblCache     // the last double printed
}

// dblCache remembers how an entry's last double printed: MIN, MAX and
// plain fields often keep their value while other aggregates move, and
// printing a double with 15 significant digits is the most expensive part
// of producing a record.
type dblCache struct {
	bits uint64
	n    uint8 // 0: empty
	b    [24]byte
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
	v.compileSlots()
	return v, nil
}

// compileSlots lays out the per-document values and the field sets that
// read the path slots.
func (v *View) compileSlots() {
	for _, g := range v.grouping {
		v.slots = append(v.slots, slot{ev: g, fs: -1})
	}
	for _, c := range v.cols {
		v.slots = append(v.slots, slot{ev: c.expr, fs: -1})
	}
	v.nOld = len(v.slots)
	for _, i := range v.plain {
		v.slots = append(v.slots, slot{ev: v.entries[i].expr, fs: -1})
	}
	var paths []filter.Path
	nOldPaths := 0
	for i := range v.slots {
		e, ok := v.slots[i].ev.(*filter.Expr)
		if !ok {
			continue
		}
		p, ok := e.Path()
		if !ok {
			continue
		}
		v.slots[i].fs = len(paths)
		paths = append(paths, p)
		if i < v.nOld {
			nOldPaths = len(paths)
		}
	}
	if len(paths) > 0 {
		v.fsOld = filter.NewFieldSet(paths[:nOldPaths])
		v.fsNew = filter.NewFieldSet(paths)
	}
	v.fsVals = make([]filter.Value, len(paths))
	v.oldVals = make([]filter.Value, v.nOld)
	v.newVals = make([]filter.Value, len(v.slots))
}

// eval reads the first len(out) slots of doc. Strings of path slots alias
// doc.
func (v *View) eval(doc []byte, fs *filter.FieldSet, out []filter.Value) []filter.Value {
	if fs != nil && fs.Len() > 0 {
		fs.LookupAliased(doc, v.fsVals)
	}
	for i := range out {
		if k := v.slots[i].fs; k >= 0 {
			out[i] = v.fsVals[k]
		} else {
			out[i] = v.slots[i].ev.Eval(doc)
		}
	}
	return out
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

// appendKey encodes grouping values; the encoding is injective (each
// value is typed and length-prefixed). Callers keep the result in a
// reused buffer and index maps with string(key), which does not allocate.
func appendKey(b []byte, vals []filter.Value) []byte {
	for _, val := range vals {
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
	return b
}

// keep stores val in *dst, copying a string that may alias a document
// unless *dst already holds the same text.
func keep(dst *filter.Value, val filter.Value) {
	if val.Kind == filter.String {
		if dst.Kind == filter.String && dst.Str == val.Str {
			val.Str = dst.Str
		} else {
			val.Str = strings.Clone(val.Str)
		}
	}
	*dst = val
}

// Apply folds one record change into the view: old == nil is an insert,
// new == nil a delete, both set a replacement (the record may move between
// groups or into or out of the filter). It returns the projected record of
// every group the change touched: the group the record left first, then
// the group it joined. A republish with identical values still reports
// its group. The returned slice is reused by the next Apply (the Data of
// each output is not: it may be kept).
func (v *View) Apply(oldDoc, newDoc []byte) []GroupOutput {
	return v.apply(oldDoc, newDoc, true)
}

// Add folds an inserted record into the view without producing its
// group's record: Apply(nil, doc) for building a view from existing
// records, after which Snapshot lists the groups. Printing a group's
// record is the larger part of an insert, and a build would print every
// group once per record.
func (v *View) Add(doc []byte) {
	v.apply(nil, doc, false)
}

func (v *View) apply(oldDoc, newDoc []byte, produce bool) []GroupOutput {
	var gOld, gNew *group
	var oldVals, newVals []filter.Value
	nG := len(v.grouping)
	if oldDoc != nil && v.matches(oldDoc) {
		oldVals = v.eval(oldDoc, v.fsOld, v.oldVals)
		v.oldKey = appendKey(v.oldKey[:0], oldVals[:nG])
		if g, ok := v.groups[string(v.oldKey)]; ok {
			if g.dirty && produce {
				// Changed by Add since its last record: produce it now,
				// so that a removal reports the record the group had.
				v.emit(g)
			}
			gOld = g
		}
	}
	if newDoc != nil && v.matches(newDoc) {
		newVals = v.eval(newDoc, v.fsNew, v.newVals)
		v.newKey = appendKey(v.newKey[:0], newVals[:nG])
		gNew = gOld
		// Most replacements stay in their group: one map lookup.
		if gNew == nil || !bytes.Equal(v.newKey, v.oldKey) {
			var ok bool
			gNew, ok = v.groups[string(v.newKey)]
			if !ok {
				k := string(v.newKey)
				gNew = v.newGroup(k)
				v.groups[k] = gNew
			}
		}
	}
	switch {
	case gOld != nil && gOld == gNew:
		for i := range v.cols {
			gOld.cols[i].replace(oldVals[nG+i], newVals[nG+i], v.cols[i].needs, &v.distBuf)
		}
	default:
		if gOld != nil {
			gOld.n--
			for i := range v.cols {
				gOld.cols[i].update(oldVals[nG+i], -1, v.cols[i].needs, &v.distBuf)
			}
		}
		if gNew != nil {
			gNew.n++
			for i := range v.cols {
				gNew.cols[i].update(newVals[nG+i], +1, v.cols[i].needs, &v.distBuf)
			}
		}
	}
	if gNew != nil {
		for j, i := range v.plain {
			keep(&gNew.ents[i].last, newVals[v.nOld+j])
		}
		for _, m := range v.fromKey {
			keep(&gNew.ents[m[0]].last, newVals[m[1]])
		}
	}
	clear(oldVals) // drop references into the documents
	clear(newVals)
	if !produce {
		if gNew != nil {
			gNew.dirty = true
		}
		return nil
	}
	out := v.out[:0]
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
	v.out = out
	return out
}

func (v *View) newGroup(k string) *group {
	v.nextSeq++
	g := v.allocGroup()
	g.key, g.seq = k, v.nextSeq
	for i, c := range v.cols {
		g.cols[i] = newColState(c.needs)
	}
	return g
}

// allocGroup allocates a group with its column and entry state in the
// same allocation when the view is small: a change then follows one
// pointer (from the group map) instead of three dependent ones, which is
// what a change costs when there are too many groups to stay in the cache.
// A few shapes bound the space left unused.
func (v *View) allocGroup() *group {
	nc, ne := len(v.cols), len(v.entries)
	switch {
	case nc <= 1 && ne <= 3:
		c := new(struct {
			g    group
			cols [1]colState
			ents [3]entState
		})
		c.g.cols, c.g.ents = c.cols[:nc], c.ents[:ne]
		return &c.g
	case nc <= 2 && ne <= 6:
		c := new(struct {
			g    group
			cols [2]colState
			ents [6]entState
		})
		c.g.cols, c.g.ents = c.cols[:nc], c.ents[:ne]
		return &c.g
	case nc <= 4 && ne <= 10:
		c := new(struct {
			g    group
			cols [4]colState
			ents [10]entState
		})
		c.g.cols, c.g.ents = c.cols[:nc], c.ents[:ne]
		return &c.g
	}
	return &group{cols: make([]colState, nc), ents: make([]entState, ne)}
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
		if g.lastOut == nil || g.dirty {
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
			vals[i] = g.ents[i].last
		case entryAgg:
			vals[i] = g.cols[en.agg.col].result(en.agg.fn, en.agg.delim)
		case entryOuter:
			vals[i] = en.expr.Eval(v.aggDoc(g, en.calls))
		}
	}
	b := v.appendNodes(make([]byte, 0, max(64, len(g.lastOut)+8)), g, v.layout, vals)
	clear(vals) // drop references to strings until the next emit
	g.lastOut, g.dirty = b, false
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
func (v *View) appendNodes(b []byte, g *group, nodes []*node, vals []filter.Value) []byte {
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
			b = g.appendValue(b, n.entry, vals[n.entry])
		} else {
			inner := len(b)
			b = v.appendNodes(b, g, n.children, vals)
			if len(b)-inner == 2 {
				b = b[:mark]
				continue
			}
		}
		first = false
	}
	return append(b, '}')
}

// appendValue is AppendValue with doubles printed once per distinct value
// of entry i.
func (g *group) appendValue(b []byte, i int, val filter.Value) []byte {
	if val.Kind != filter.Number || math.IsNaN(val.Num) || math.IsInf(val.Num, 0) || val.IsInt && math.Abs(val.Num) < 1<<63 {
		return AppendValue(b, val)
	}
	c := &g.ents[i].dbl
	bits := math.Float64bits(val.Num)
	if c.n > 0 && c.bits == bits {
		return append(b, c.b[:c.n]...)
	}
	start := len(b)
	b = AppendDouble(b, val.Num)
	if n := len(b) - start; n <= len(c.b) {
		c.bits, c.n = bits, uint8(n)
		copy(c.b[:], b[start:])
	}
	return b
}
