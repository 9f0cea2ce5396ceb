package config

import (
	"fmt"
	"strings"
)

// resolver expands ${...} references in values, the forms Flume accepts:
//
//	${env:NAME}          environment variable (${env:NAME:-default} too)
//	${sys:NAME}          a -DNAME=value agent option
//	${NAME}              another property of the file by its full key, else
//	                     the environment variable NAME (Flume 1.10)
//	${f['KEY']}          config filter f (of type env) looked up with KEY
//	$${...}              a literal ${...}
//
// An unresolvable reference is an error rather than being left in place, so
// a missing variable is caught before the agent starts.
type resolver struct {
	props   *Properties
	env     func(string) (string, bool)
	sys     map[string]string
	filters map[string]string // filter name → type
}

const maxSubstDepth = 10

func (r *resolver) expand(s string) (string, error) { return r.expandDepth(s, 0) }

func (r *resolver) expandDepth(s string, depth int) (string, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	if depth > maxSubstDepth {
		return "", fmt.Errorf("references nest more than %d deep (a cycle?)", maxSubstDepth)
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		if i > 0 && s[i-1] == '$' {
			b.WriteString(s[:i-1])
			b.WriteString("${")
			s = s[i+2:]
			continue
		}
		b.WriteString(s[:i])
		end := matchingBrace(s, i+2)
		if end < 0 {
			return "", fmt.Errorf("unterminated reference %q", s[i:])
		}
		ref := s[i+2 : end]
		v, err := r.lookup(ref, depth)
		if err != nil {
			return "", err
		}
		b.WriteString(v)
		s = s[end+1:]
	}
}

// matchingBrace finds the '}' closing a reference whose body starts at i,
// allowing nested ${...} in a default.
func matchingBrace(s string, i int) int {
	depth := 0
	for ; i < len(s); i++ {
		switch {
		case s[i] == '{':
			depth++
		case s[i] == '}':
			if depth == 0 {
				return i
			}
			depth--
		}
	}
	return -1
}

func (r *resolver) lookup(ref string, depth int) (string, error) {
	name, def, hasDef := strings.Cut(ref, ":-")
	v, ok, err := r.lookupName(name, depth)
	if err != nil {
		return "", err
	}
	if ok {
		return v, nil
	}
	if hasDef {
		return r.expandDepth(def, depth+1)
	}
	return "", fmt.Errorf("${%s} is not defined", ref)
}

func (r *resolver) lookupName(name string, depth int) (string, bool, error) {
	if prefix, rest, ok := strings.Cut(name, ":"); ok {
		switch prefix {
		case "env":
			v, ok := r.env(rest)
			return v, ok, nil
		case "sys":
			v, ok := r.sys[rest]
			return v, ok, nil
		default:
			return "", false, fmt.Errorf("${%s}: lookup %q is not supported (use env: or sys:)", name, prefix)
		}
	}
	if f, key, ok := parseFilterRef(name); ok {
		typ, declared := r.filters[f]
		if !declared {
			return "", false, fmt.Errorf("${%s}: config filter %q is not declared in configfilters", name, f)
		}
		if !strings.EqualFold(typ, "env") {
			return "", false, fmt.Errorf("${%s}: config filter %q has type %q; only env is supported", name, f, typ)
		}
		v, ok := r.env(key)
		return v, ok, nil
	}
	if p, ok := r.props.props[name]; ok {
		v, err := r.expandDepth(p.Value, depth+1)
		return v, err == nil, err
	}
	v, ok := r.env(name)
	return v, ok, nil
}

// parseFilterRef recognises f['KEY'] and f["KEY"].
func parseFilterRef(s string) (filter, key string, ok bool) {
	i := strings.IndexByte(s, '[')
	if i <= 0 || !strings.HasSuffix(s, "]") {
		return "", "", false
	}
	inner := s[i+1 : len(s)-1]
	if len(inner) < 2 || (inner[0] != '\'' && inner[0] != '"') || inner[len(inner)-1] != inner[0] {
		return "", "", false
	}
	return s[:i], inner[1 : len(inner)-1], true
}
