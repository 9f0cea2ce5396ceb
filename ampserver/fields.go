package ampserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"ampsflume/ampserver/aggregate"
	"ampsflume/filter"

	"ampsflume/internal/jsonscan"
)

// Field construction for SOW Preprocessing and Enrichment: a <Field> is
// `source expression AS /destination [HINT OPTIONAL|SET_CURRENT[,...]]`.
// The expression language is the filter package's; an identifier followed
// by OF PREVIOUS reads the record's previous state in the SOW (enrichment
// only) and OF CURRENT the incoming message (the default).
//
// Output, a documented decision: the constructed fields are written into the
// incoming JSON object. A field that exists keeps its place and gets its new
// value; a new field is appended after the existing ones, in Field order,
// and nested destinations (/a/b) edit or create nested objects the same
// way. Members the fields do not touch are copied byte for byte. A NULL
// result is written as null, or, with HINT OPTIONAL, removes the field.

// prevField is the member under which the previous record is spliced into
// the document that OF PREVIOUS identifiers are evaluated against.
const prevField = "__amps_previous__"

// fieldSpec is one compiled <Field>.
type fieldSpec struct {
	src        string
	expr       *filter.Expr
	names      []string // destination path
	optional   bool     // HINT OPTIONAL: NULL removes the field
	setCurrent bool     // HINT SET_CURRENT: later fields see the value
	usesPrev   bool     // reads the previous record (OF PREVIOUS)
	single     []*editNode
}

// parseFieldSpec compiles one field constructor. allowPrevious is false for
// preprocessing, which runs before the SOW key is known.
func parseFieldSpec(spec string, allowPrevious bool) (*fieldSpec, error) {
	spec = strings.TrimSpace(spec)
	exprText, dest, ok := splitFieldAs(spec)
	if !ok {
		return nil, errors.New("want `expression AS /field`")
	}
	f := &fieldSpec{src: spec}
	// HINT follows the destination.
	if i := indexWordFold(dest, "HINT"); i >= 0 {
		for _, h := range strings.Split(dest[i+4:], ",") {
			switch strings.ToUpper(strings.TrimSpace(h)) {
			case "OPTIONAL":
				f.optional = true
			case "SET_CURRENT":
				f.setCurrent = true
			default:
				return nil, fmt.Errorf("unknown HINT %q (OPTIONAL or SET_CURRENT)", strings.TrimSpace(h))
			}
		}
		dest = strings.TrimSpace(dest[:i])
	}
	p, err := filter.ParsePath(dest)
	if err != nil {
		return nil, fmt.Errorf("destination %q is not a field: %v", dest, err)
	}
	names, ok := p.Names()
	if !ok {
		return nil, fmt.Errorf("destination %q cannot index an array", dest)
	}
	f.names = names
	rewritten, usesPrev, err := rewriteOf(exprText)
	if err != nil {
		return nil, err
	}
	if usesPrev && !allowPrevious {
		return nil, errors.New("OF PREVIOUS is only available in Enrichment (preprocessing runs before the previous record is known)")
	}
	e, err := filter.CompileExpr(rewritten)
	if err != nil {
		return nil, fmt.Errorf("expression %q: %v", exprText, err)
	}
	f.expr, f.usesPrev = e, usesPrev
	f.single, err = buildEditTree([]*fieldSpec{f})
	if err != nil {
		return nil, err
	}
	return f, nil
}

// splitFieldAs splits at the last top-level AS keyword, outside string
// literals, parentheses and bracketed identifiers.
func splitFieldAs(s string) (expr, dest string, ok bool) {
	last := -1
	scanTopLevel(s, func(i int) {
		if i > 0 && i+3 <= len(s) && isBlank(s[i-1]) && strings.EqualFold(s[i:i+2], "as") && isBlank(s[i+2]) {
			last = i
		}
	})
	if last < 0 {
		return "", "", false
	}
	expr, dest = strings.TrimSpace(s[:last]), strings.TrimSpace(s[last+2:])
	return expr, dest, expr != "" && dest != ""
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// indexWordFold finds word as a blank-separated keyword in s.
func indexWordFold(s, word string) int {
	for i := 0; i+len(word) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(word)], word) && (i == 0 || isBlank(s[i-1])) &&
			(i+len(word) == len(s) || isBlank(s[i+len(word)])) {
			return i
		}
	}
	return -1
}

// scanTopLevel calls visit for every byte offset at nesting depth zero
// outside string literals and bracketed identifiers.
func scanTopLevel(s string, visit func(i int)) {
	depth := 0
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if quote != 0 {
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
			continue
		}
		switch c {
		case '\'', '"':
			quote = c
		case '(', '[':
			depth++
		case ')', ']':
			depth--
		default:
			if depth == 0 {
				visit(i)
			}
		}
	}
}

func isPathNameStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '@' || c == '$' || c >= 0x80
}

func isPathNameChar(c byte) bool {
	return isPathNameStart(c) || c == '.' || c == '-' || c == ':'
}

// pathEnd returns the end of the identifier starting at s[i] (a '/' or
// "[/"), following the expression language's identifier syntax.
func pathEnd(s string, i int) int {
	start := i
	for i < len(s) {
		switch {
		case s[i] == '/' && i+1 < len(s) && isPathNameStart(s[i+1]):
			i++
			for i < len(s) && isPathNameChar(s[i]) {
				i++
			}
		case s[i] == '[' && i+1 < len(s) && s[i+1] == '/':
			end := strings.IndexByte(s[i:], ']')
			if end < 0 {
				return len(s)
			}
			i += end + 1
		case s[i] == '[' && i > start && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
			end := strings.IndexByte(s[i:], ']')
			if end < 0 {
				return len(s)
			}
			i += end + 1
		default:
			return i
		}
	}
	return i
}

// rewriteOf removes the OF CURRENT / OF PREVIOUS modifiers: an identifier
// OF PREVIOUS becomes the same identifier under prevField. Whether '/'
// starts an identifier or divides follows the lexer's rule: it starts one
// in operand position.
func rewriteOf(s string) (string, bool, error) {
	var b strings.Builder
	usesPrev := false
	prevOperand := false
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case isBlank(c):
			b.WriteByte(c)
			i++
			continue
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(s) && s[j] != c {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			j = min(j+1, len(s))
			b.WriteString(s[i:j])
			i, prevOperand = j, true
			continue
		case (c == '/' && i+1 < len(s) && isPathNameStart(s[i+1]) || c == '[' && i+1 < len(s) && s[i+1] == '/') && !prevOperand:
			end := pathEnd(s, i)
			path := s[i:end]
			mod, next := ofModifier(s, end)
			switch mod {
			case "PREVIOUS":
				usesPrev = true
				b.WriteString("/" + prevField)
			case "":
				next = end
			}
			b.WriteString(path)
			i, prevOperand = next, true
			continue
		case isPathNameStart(c) && !(c >= '0' && c <= '9') || c == '.' || c >= '0' && c <= '9':
			j := i
			for j < len(s) && (isPathNameStart(s[j]) || s[j] == '.') {
				j++
			}
			word := strings.ToUpper(s[i:j])
			if word == "OF" {
				return "", false, errors.New("OF must follow a field identifier")
			}
			b.WriteString(s[i:j])
			// Literals and NULL/TRUE/FALSE end an operand; other words
			// (operators, function names) do not.
			prevOperand = c >= '0' && c <= '9' || c == '.' || word == "NULL" || word == "TRUE" || word == "FALSE"
			i = j
			continue
		}
		b.WriteByte(c)
		prevOperand = c == ')' || c == ']'
		i++
	}
	return b.String(), usesPrev, nil
}

// ofModifier reads "OF CURRENT" or "OF PREVIOUS" at s[i:] (after blanks)
// and returns it with the offset after it, or "" when there is none.
func ofModifier(s string, i int) (string, int) {
	j := i
	for j < len(s) && isBlank(s[j]) {
		j++
	}
	if j+2 > len(s) || !strings.EqualFold(s[j:j+2], "OF") || j+2 < len(s) && !isBlank(s[j+2]) {
		return "", i
	}
	k := j + 2
	for k < len(s) && isBlank(s[k]) {
		k++
	}
	for _, w := range []string{"PREVIOUS", "CURRENT"} {
		if k+len(w) <= len(s) && strings.EqualFold(s[k:k+len(w)], w) &&
			(k+len(w) == len(s) || !isPathNameChar(s[k+len(w)])) {
			return w, k + len(w)
		}
	}
	return "", i
}

// editNode is one member name of the destination tree: a leaf carries the
// index of the field that sets it, an inner node the nested members.
type editNode struct {
	name     string
	key      []byte // the name encoded as a JSON string
	field    int    // index into the values; -1 for an inner node
	children []*editNode
}

// buildEditTree merges the destinations of fields into one tree, in field
// order. Two fields may not write the same member, nor one inside another.
func buildEditTree(fields []*fieldSpec) ([]*editNode, error) {
	var roots []*editNode
	for fi, f := range fields {
		level := &roots
		for d, name := range f.names {
			var n *editNode
			for _, x := range *level {
				if x.name == name {
					n = x
				}
			}
			last := d == len(f.names)-1
			if n != nil && (last || n.field >= 0) {
				return nil, fmt.Errorf("field %q: its destination overlaps another field's", f.src)
			}
			if n == nil {
				n = &editNode{name: name, key: aggregate.AppendValue(nil, filter.StringValue(name)), field: -1}
				if last {
					n.field = fi
				}
				*level = append(*level, n)
			}
			level = &n.children
		}
	}
	return roots, nil
}

// fieldValue is a constructed value, or a removal.
type fieldValue struct {
	v      filter.Value
	remove bool
}

// errNotObject is returned for a message that is not a JSON object: fields
// can only be constructed in one.
var errNotObject = errors.New("message is not a JSON object")

// editDocument writes vals into the JSON object doc along tree.
func editDocument(doc []byte, tree []*editNode, vals []fieldValue) ([]byte, error) {
	if !json.Valid(doc) {
		return nil, errNotObject
	}
	i := jsonscan.SkipSpace(doc, 0)
	if i >= len(doc) || doc[i] != '{' {
		return nil, errNotObject
	}
	return editObject(make([]byte, 0, len(doc)+32), doc[i:], tree, vals), nil
}

// editObject appends obj (a valid JSON object) with the tree's members
// replaced, removed or appended.
func editObject(out, obj []byte, tree []*editNode, vals []fieldValue) []byte {
	done := make([]bool, len(tree))
	out = append(out, '{')
	n := 0
	member := func(key []byte) {
		if n > 0 {
			out = append(out, ',')
		}
		n++
		out = append(append(out, key...), ':')
	}
	i := jsonscan.SkipSpace(obj, 1)
	for i < len(obj) && obj[i] != '}' {
		ke := jsonscan.SkipString(obj, i)
		rawKey := obj[i:ke]
		i = jsonscan.SkipSpace(obj, ke)
		i = jsonscan.SkipSpace(obj, i+1) // ':'
		ve := jsonscan.SkipValue(obj, i)
		val := obj[i:ve]
		i = jsonscan.SkipSpace(obj, ve)
		if i < len(obj) && obj[i] == ',' {
			i = jsonscan.SkipSpace(obj, i+1)
		}
		k := -1
		if name, ok := decodeKey(rawKey); ok {
			for j, x := range tree {
				if x.name == name {
					k = j
					break
				}
			}
		}
		if k < 0 {
			member(rawKey)
			out = append(out, val...)
			continue
		}
		x := tree[k]
		done[k] = true
		switch {
		case x.field >= 0 && vals[x.field].remove:
		case x.field >= 0:
			member(rawKey)
			out = aggregate.AppendValue(out, vals[x.field].v)
		case len(val) > 0 && val[0] == '{':
			member(rawKey)
			out = editObject(out, val, x.children, vals)
		default:
			// A scalar where the fields want an object: the fields win,
			// unless they only remove members (then nothing changes).
			if sub := editObject(nil, []byte("{}"), x.children, vals); len(sub) > 2 {
				member(rawKey)
				out = append(out, sub...)
			} else {
				member(rawKey)
				out = append(out, val...)
			}
		}
	}
	for k, x := range tree {
		if done[k] {
			continue
		}
		switch {
		case x.field >= 0 && vals[x.field].remove:
		case x.field >= 0:
			member(x.key)
			out = aggregate.AppendValue(out, vals[x.field].v)
		default:
			if sub := editObject(nil, []byte("{}"), x.children, vals); len(sub) > 2 {
				member(x.key)
				out = append(out, sub...)
			}
		}
	}
	return append(out, '}')
}

// decodeKey decodes a JSON member name; escapes are rare, so the common
// case does not allocate beyond the string.
func decodeKey(raw []byte) (string, bool) {
	if len(raw) < 2 {
		return "", false
	}
	inner := raw[1 : len(raw)-1]
	for _, c := range inner {
		if c == '\\' {
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return "", false
			}
			return s, true
		}
	}
	return string(inner), true
}

// withPrevious returns cur with the previous record spliced in as the first
// member prevField, for evaluating OF PREVIOUS identifiers. Without a
// previous record cur is returned: those identifiers are then NULL.
func withPrevious(cur, prev []byte) []byte {
	if prev == nil {
		return cur
	}
	i := jsonscan.SkipSpace(cur, 0)
	if i >= len(cur) || cur[i] != '{' {
		return cur
	}
	rest := cur[i+1:]
	out := make([]byte, 0, len(cur)+len(prev)+len(prevField)+8)
	out = append(out, `{"`+prevField+`":`...)
	out = append(out, prev...)
	if j := jsonscan.SkipSpace(rest, 0); j < len(rest) && rest[j] != '}' {
		out = append(out, ',')
	}
	return append(out, rest...)
}
