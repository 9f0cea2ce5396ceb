package filter

import "unsafe"

// maxTopFields bounds the single-field paths a FieldSet finds in one pass:
// which of them were found is kept in one machine word.
const maxTopFields = 64

// FieldSet looks up several paths in the same document. Paths made of one
// field name (/price) are found together in a single pass over the
// document's top-level object, which stops as soon as all of them are
// found; other paths are looked up one by one. Consumers that read the same
// few fields of every record (aggregations, projections) use it instead of
// one Lookup per field, which would scan the document once per field.
//
// A FieldSet is immutable after NewFieldSet and safe for concurrent use.
type FieldSet struct {
	paths []Path
	top   []int    // indexes into paths of the single-field paths
	names []string // their field names, parallel to top
	all   uint64   // one bit per entry of top
	rest  []int    // indexes into paths of the other paths
}

// NewFieldSet returns a FieldSet for paths; LookupAliased fills results in
// the same order.
func NewFieldSet(paths []Path) *FieldSet {
	s := &FieldSet{paths: append([]Path(nil), paths...)}
	for i, p := range s.paths {
		if len(p.steps) == 1 && p.steps[0].index < 0 && len(s.top) < maxTopFields {
			s.top = append(s.top, i)
			s.names = append(s.names, p.steps[0].name)
			continue
		}
		s.rest = append(s.rest, i)
	}
	s.all = 1<<len(s.top) - 1
	if len(s.top) == maxTopFields {
		s.all = ^uint64(0)
	}
	return s
}

// Len returns the number of paths.
func (s *FieldSet) Len() int { return len(s.paths) }

// LookupAliased sets out[i] to the value of the i-th path in doc, exactly
// as Path.Lookup would, except that strings may share memory with doc: a
// caller keeping one beyond the life of doc (or past a change to it) must
// copy it (strings.Clone). out must have at least Len elements.
func (s *FieldSet) LookupAliased(doc []byte, out []Value) {
	out = out[:len(s.paths)]
	for _, k := range s.rest {
		out[k] = s.paths[k].lookup(doc)
	}
	if len(s.top) == 0 {
		return
	}
	for _, k := range s.top {
		out[k] = NullValue
	}
	i := skipWS(doc, 0)
	if i >= len(doc) || doc[i] != '{' {
		// An array fans out and a scalar has no fields: the general walk
		// gives the answer Lookup gives.
		for _, k := range s.top {
			out[k] = s.paths[k].lookup(doc)
		}
		return
	}
	// The same walk as objectField, over every key instead of stopping at
	// one: malformed input ends the scan, leaving the fields not yet found
	// NULL, as a per-field lookup would.
	found := uint64(0)
	for i++; found != s.all; {
		i = skipWS(doc, i)
		if i >= len(doc) || doc[i] != '"' {
			return
		}
		j := i + 1
		esc := false
		for j < len(doc) && doc[j] != '"' {
			if doc[j] == '\\' {
				esc = true
				j++
			}
			j++
		}
		if j >= len(doc) {
			return
		}
		key := doc[i+1 : j]
		i = skipWS(doc, j+1)
		if i >= len(doc) || doc[i] != ':' {
			return
		}
		i = skipWS(doc, i+1)
		if i >= len(doc) {
			return
		}
		end := skipValue(doc, i)
		var name string
		ok := true
		if esc {
			name, ok = unescapeJSON(key)
		} else if len(key) > 0 {
			name = unsafe.String(&key[0], len(key))
		}
		if ok {
			for b, n := range s.names {
				if found&(1<<b) == 0 && n == name {
					// The first occurrence of a key wins, as in objectField.
					found |= 1 << b
					if end >= 0 {
						out[s.top[b]] = scalarOf(doc[i:end], true)
					}
				}
			}
		}
		if end < 0 {
			return
		}
		i = skipWS(doc, end)
		if i >= len(doc) || doc[i] != ',' {
			return
		}
		i++
	}
}
