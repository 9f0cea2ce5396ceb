package ampserver

import (
	"bytes"
	"slices"
)

// A route is what a publish to one topic needs from one version of the
// subscription list: the subscriptions whose topic matches (regexes
// evaluated once, not per publish), and their equality filters
// (`/field = 'literal'`, eqFilter) indexed by field and literal, so that a
// publish scans the message once per indexed field and touches only the
// subscriptions whose literal is the field's value. The subscription list
// is copy-on-write, so a route stays valid for as long as the list it was
// built from is the current one; a topic rebuilds its route on the first
// publish after a change (topic.routeFor).
type route struct {
	list *subList
	subs []*subscription // every subscription of the topic, in list order
	// scan are the positions in subs evaluated one by one on every
	// publish: no filter, or a filter without an indexed form.
	scan []int32
	// fields are the equality filters, one index per field name.
	fields []*eqIndex
}

// eqIndex is the equality filters of one route testing one top-level field.
type eqIndex struct {
	name string
	// lits are the distinct literals and pos[i] the positions of the
	// subscriptions comparing the field with lits[i], ascending. With more
	// than a few literals, byLit finds a literal's index; with a few,
	// comparing them one by one is faster than hashing.
	lits  []string
	pos   [][]int32
	byLit map[string]int
	// packed[i] is lits[i] in a word when it has at most 8 bytes
	// (packLit), which the value of a message is compared with first.
	packed []packedLit
	// all is every position of the index, ascending: each one's filter is
	// evaluated when the field's value is not a plain string.
	all []int32
}

// eqLinear is the number of literals up to which an index compares them
// one by one.
const eqLinear = 8

func (ix *eqIndex) add(lit string, pos int32) {
	i, ok := -1, false
	if ix.byLit != nil {
		i, ok = ix.byLit[lit]
	} else {
		for j, l := range ix.lits {
			if l == lit {
				i, ok = j, true
				break
			}
		}
	}
	if !ok {
		i = len(ix.lits)
		ix.lits = append(ix.lits, lit)
		ix.pos = append(ix.pos, nil)
		p, ok := packLit([]byte(lit))
		if !ok {
			p.n = -1 // longer: equal to no packed value
		}
		ix.packed = append(ix.packed, p)
		if ix.byLit != nil || len(ix.lits) > eqLinear {
			if ix.byLit == nil {
				ix.byLit = make(map[string]int, len(ix.lits))
				for j, l := range ix.lits {
					ix.byLit[l] = j
				}
			}
			ix.byLit[lit] = i
		}
	}
	ix.pos[i] = append(ix.pos[i], pos)
	ix.all = append(ix.all, pos)
}

// lookup returns the positions of the subscriptions whose literal is v.
func (ix *eqIndex) lookup(v []byte) []int32 {
	if ix.byLit != nil {
		if i, ok := ix.byLit[string(v)]; ok {
			return ix.pos[i]
		}
		return nil
	}
	if p, ok := packLit(v); ok {
		for i, q := range ix.packed {
			if q == p {
				return ix.pos[i]
			}
		}
		return nil
	}
	for i, l := range ix.lits {
		if l == string(v) {
			return ix.pos[i]
		}
	}
	return nil
}

// packedLit is a string of up to 8 bytes in a word, with its length.
type packedLit struct {
	w uint64
	n int
}

func packLit(v []byte) (packedLit, bool) {
	if len(v) > 8 {
		return packedLit{}, false
	}
	var w uint64
	for i := len(v) - 1; i >= 0; i-- {
		w = w<<8 | uint64(v[i])
	}
	return packedLit{w, len(v)}, true
}

func newRoute(list *subList, topic string) *route {
	r := &route{list: list}
	for _, sub := range list.subs {
		if !sub.matchesTopic(topic) {
			continue
		}
		pos := int32(len(r.subs))
		r.subs = append(r.subs, sub)
		if sub.filter == nil || sub.eq == nil {
			r.scan = append(r.scan, pos)
			continue
		}
		var ix *eqIndex
		for _, x := range r.fields {
			if x.name == sub.eq.name {
				ix = x
				break
			}
		}
		if ix == nil {
			ix = &eqIndex{name: sub.eq.name}
			r.fields = append(r.fields, ix)
		}
		ix.add(sub.eq.lit, pos)
	}
	return r
}

// routeFor returns the topic's route for the current subscription list;
// t.mu is held.
func (t *topic) routeFor(list *subList) *route {
	if r := t.route; r != nil && r.list == list {
		return r
	}
	t.route = newRoute(list, t.name)
	return t.route
}

// match appends to dst the positions of the subscriptions whose filter
// matches data, ascending, and returns it.
func (r *route) match(dst []int32, data []byte) []int32 {
	for _, p := range r.scan {
		if f := r.subs[p].filter; f == nil || f.Match(data) {
			dst = append(dst, p)
		}
	}
	sorted := true // dst is ascending while at most one source added to it
	for _, ix := range r.fields {
		n := len(dst)
		raw, res := topField(data, ix.name)
		if res == fieldFound && len(raw) > 2 && raw[0] == '"' && bytes.IndexByte(raw, '\\') < 0 {
			raw, res = raw[1:len(raw)-1], fieldString
		}
		switch res {
		case fieldAbsent: // NULL never matches
		case fieldString:
			dst = append(dst, ix.lookup(raw)...)
		default:
			// A number, an array, an escaped or empty string, a document
			// the scan does not understand: the compiled filter decides,
			// so results never differ from it.
			for _, p := range ix.all {
				if r.subs[p].filter.Match(data) {
					dst = append(dst, p)
				}
			}
		}
		if n > 0 && len(dst) > n {
			sorted = false
		}
	}
	if !sorted {
		slices.Sort(dst)
	}
	return dst
}
