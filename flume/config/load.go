package config

import (
	"fmt"
	"os"
	"sort"

	"ampsflume/flume"
)

// Properties is the merged content of one or more .properties files: every
// key with its value and the file:line it came from.
type Properties struct {
	props map[string]flume.Property
	files []string
	// dups records keys set more than once, with the location that lost.
	dups []dup
}

type dup struct {
	key       string
	lost, won flume.Location
}

// Load reads and merges configuration files; a key in a later file replaces
// the same key of an earlier one (Flume 1.10's multi-file merge).
func Load(paths ...string) (*Properties, error) {
	p := &Properties{props: map[string]flume.Property{}}
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("reading configuration: %w", err)
		}
		if err := p.add(path, data); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Source is one named piece of configuration text, such as a file's or a
// URI's content; Name is what messages give as the location's file.
type Source struct {
	Name string
	Data []byte
}

// Merge parses sources in order into one configuration; a key in a later
// source replaces the same key of an earlier one, as Load does for files.
func Merge(sources ...Source) (*Properties, error) {
	p := &Properties{props: map[string]flume.Property{}}
	for _, s := range sources {
		if err := p.add(s.Name, s.Data); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Parse parses one file's content; file names it in messages.
func Parse(file string, data []byte) (*Properties, error) {
	p := &Properties{props: map[string]flume.Property{}}
	if err := p.add(file, data); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Properties) add(file string, data []byte) error {
	p.files = append(p.files, file)
	entries, err := ParseProperties(file, data)
	if err != nil {
		return err
	}
	for _, e := range entries {
		loc := flume.Location{File: file, Line: e.Line}
		if old, ok := p.props[e.Key]; ok && old.Loc.File == file {
			p.dups = append(p.dups, dup{key: e.Key, lost: old.Loc, won: loc})
		}
		p.props[e.Key] = flume.Property{Value: e.Value, Loc: loc}
	}
	return nil
}

// Get returns the property stored under the full key.
func (p *Properties) Get(key string) (flume.Property, bool) {
	v, ok := p.props[key]
	return v, ok
}

// Keys returns every key, sorted.
func (p *Properties) Keys() []string {
	keys := make([]string, 0, len(p.props))
	for k := range p.props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Agents returns the agent names that have at least one property.
func (p *Properties) Agents() []string {
	seen := map[string]bool{}
	var out []string
	for k := range p.props {
		if a, _, ok := cutDot(k); ok && a != "" && !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	sort.Strings(out)
	return out
}

func cutDot(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

func (p *Properties) firstFile() string {
	if len(p.files) == 0 {
		return ""
	}
	return p.files[0]
}
