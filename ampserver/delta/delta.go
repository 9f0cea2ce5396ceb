package delta

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"ampsflume/internal/jsonscan"
)

type member struct {
	rawKey []byte // the key as written, quotes included
	name   string // the decoded key
	val    []byte // the raw value, without surrounding whitespace
}

// members splits a valid JSON object into its members. ok is false when b
// is not an object.
func members(b []byte) (ms []member, ok bool) {
	i := jsonscan.SkipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, false
	}
	i = jsonscan.SkipSpace(b, i+1)
	for i < len(b) && b[i] != '}' {
		ke := jsonscan.SkipString(b, i)
		rawKey := b[i:ke]
		var name string
		if err := json.Unmarshal(rawKey, &name); err != nil {
			return nil, false
		}
		i = jsonscan.SkipSpace(b, ke)
		i = jsonscan.SkipSpace(b, i+1) // ':'
		ve := jsonscan.SkipValue(b, i)
		ms = append(ms, member{rawKey: rawKey, name: name, val: b[i:ve]})
		i = jsonscan.SkipSpace(b, ve)
		if i < len(b) && b[i] == ',' {
			i = jsonscan.SkipSpace(b, i+1)
		}
	}
	return ms, true
}

func isObject(v []byte) bool { return len(v) > 0 && v[0] == '{' }

// index maps names to their last occurrence, which is the one JSON readers
// honour.
func index(ms []member) map[string]int {
	m := make(map[string]int, len(ms))
	for i, x := range ms {
		m[x.name] = i
	}
	return m
}

var errNotObject = errors.New("not a JSON object")

func check(name string, b []byte) error {
	if !json.Valid(b) {
		return fmt.Errorf("%s: invalid JSON", name)
	}
	if _, ok := members(b); !ok {
		return fmt.Errorf("%s: %w", name, errNotObject)
	}
	return nil
}

// Merge returns the record that results from applying delta to old. An
// empty old record means there is nothing to merge with: the delta is the
// record.
func Merge(old, delta []byte) ([]byte, error) {
	if err := check("delta", delta); err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(old)) == 0 {
		return compact(delta), nil
	}
	if err := check("record", old); err != nil {
		return nil, err
	}
	return merge(nil, old, delta), nil
}

func merge(out, old, delta []byte) []byte {
	om, _ := members(old)
	dm, _ := members(delta)
	di := index(dm)
	oi := index(om)
	out = append(out, '{')
	n := 0
	for i, m := range om {
		if oi[m.name] != i {
			continue // an earlier duplicate
		}
		if n > 0 {
			out = append(out, ',')
		}
		n++
		out = append(append(out, m.rawKey...), ':')
		j, ok := di[m.name]
		switch {
		case !ok:
			out = appendCompact(out, m.val)
		case isObject(m.val) && isObject(dm[j].val):
			out = merge(out, m.val, dm[j].val)
		default:
			out = appendCompact(out, dm[j].val)
		}
	}
	for j, m := range dm {
		if _, ok := oi[m.name]; ok || di[m.name] != j {
			continue
		}
		if n > 0 {
			out = append(out, ',')
		}
		n++
		out = append(append(out, m.rawKey...), ':')
		out = appendCompact(out, m.val)
	}
	return append(out, '}')
}

func compact(b []byte) []byte { return appendCompact(nil, b) }

func appendCompact(out, v []byte) []byte {
	var buf bytes.Buffer
	if err := json.Compact(&buf, v); err != nil {
		return append(out, v...)
	}
	return append(out, buf.Bytes()...)
}

// Diff returns the delta a delta subscriber receives when a record changes
// from old to new: the members of new whose values differ from old (nested
// objects reduced to their changed members) plus the members at the key
// paths (such as "/order_key" or "/a/b"), in new's order. changed reports
// whether any non-key member changed. With an empty old record the delta is
// the whole new record.
func Diff(old, new []byte, keys []string) (d []byte, changed bool, err error) {
	if err := check("record", new); err != nil {
		return nil, false, err
	}
	if len(bytes.TrimSpace(old)) == 0 {
		return compact(new), true, nil
	}
	if err := check("previous record", old); err != nil {
		return nil, false, err
	}
	ks := make(map[string]bool, len(keys))
	for _, k := range keys {
		k = strings.TrimSpace(k)
		ks[k] = true
		// Mark the ancestors so that the walk descends towards nested keys.
		for i := len(k) - 1; i > 0; i-- {
			if k[i] == '/' {
				ks[k[:i]+"/"] = true
			}
		}
	}
	out, changed, _ := diff(nil, "", old, new, ks)
	return out, changed, nil
}

// diff appends the delta object of new against old; wrote reports whether
// the object has any member.
func diff(out []byte, prefix string, old, new []byte, keys map[string]bool) (_ []byte, changed, wrote bool) {
	om, _ := members(old)
	nm, _ := members(new)
	oi := index(om)
	ni := index(nm)
	out = append(out, '{')
	n := 0
	for i, m := range nm {
		if ni[m.name] != i {
			continue
		}
		path := prefix + "/" + m.name
		mark := len(out)
		if n > 0 {
			out = append(out, ',')
		}
		out = append(append(out, m.rawKey...), ':')
		j, inOld := oi[m.name]
		switch {
		case keys[path]:
			out = appendCompact(out, m.val)
		case inOld && isObject(m.val) && isObject(om[j].val):
			var c, w bool
			out, c, w = diff(out, path, om[j].val, m.val, keys)
			changed = changed || c
			if !w && !keys[path+"/"] {
				out = out[:mark]
				continue
			}
		case !inOld || !sameJSON(om[j].val, m.val):
			changed = true
			out = appendCompact(out, m.val)
		default:
			out = out[:mark]
			continue
		}
		n++
	}
	return append(out, '}'), changed, n > 0
}

// sameJSON compares two raw values ignoring insignificant whitespace.
func sameJSON(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	return bytes.Equal(compact(a), compact(b))
}
