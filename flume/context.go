package flume

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Location is where a configuration value came from.
type Location struct {
	File string
	Line int
}

func (l Location) String() string {
	switch {
	case l.File == "" && l.Line == 0:
		return ""
	case l.Line == 0:
		return l.File
	default:
		return fmt.Sprintf("%s:%d", l.File, l.Line)
	}
}

// Property is one configuration value and where it was written.
type Property struct {
	Value string
	Loc   Location
}

// ConfigError is a configuration problem that names where it was written, the
// component, and the key, so that a user can go straight to the line to fix.
type ConfigError struct {
	Loc       Location
	Component string // e.g. `source "amps"`
	Key       string // relative to the component, e.g. "capacity"
	Msg       string
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	if s := e.Loc.String(); s != "" {
		b.WriteString(s)
		b.WriteString(": ")
	}
	if e.Component != "" {
		b.WriteString(e.Component)
		b.WriteString(": ")
	}
	if e.Key != "" {
		fmt.Fprintf(&b, "key %q: ", e.Key)
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Context is the configuration of one component: its keys (relative to the
// component's prefix, e.g. "capacity" for agent.channels.c1.capacity) with
// their values and locations. Getters return a *ConfigError naming the key
// and line when a value is malformed; a missing key yields the default.
type Context struct {
	component string
	loc       Location // where the component was declared, for missing keys
	props     map[string]Property
}

// NewContext returns a Context for the component (described for messages, e.g.
// `channel "mem"`), declared at loc, with the given properties.
func NewContext(component string, loc Location, props map[string]Property) *Context {
	if props == nil {
		props = map[string]Property{}
	}
	return &Context{component: component, loc: loc, props: props}
}

// MapContext is a convenience for tests and embedders: a Context from plain
// key/value pairs with no file locations.
func MapContext(component string, kv map[string]string) *Context {
	props := make(map[string]Property, len(kv))
	for k, v := range kv {
		props[k] = Property{Value: v}
	}
	return NewContext(component, Location{}, props)
}

// Component describes the component for messages, e.g. `sink "files"`.
func (c *Context) Component() string { return c.component }

// Location is where the component was declared.
func (c *Context) Location() Location { return c.loc }

// Keys returns the keys present, sorted.
func (c *Context) Keys() []string {
	keys := make([]string, 0, len(c.props))
	for k := range c.props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Lookup returns the property for key.
func (c *Context) Lookup(key string) (Property, bool) {
	p, ok := c.props[key]
	return p, ok
}

// Has reports whether key is set.
func (c *Context) Has(key string) bool {
	_, ok := c.props[key]
	return ok
}

// Errorf returns a *ConfigError about key, located at the key's line when the
// key is set and at the component's declaration otherwise.
func (c *Context) Errorf(key, format string, args ...any) error {
	loc := c.loc
	if p, ok := c.props[key]; ok {
		loc = p.Loc
	}
	return &ConfigError{Loc: loc, Component: c.component, Key: key, Msg: fmt.Sprintf(format, args...)}
}

// String returns the value of key, or def when it is not set.
func (c *Context) String(key, def string) string {
	if p, ok := c.props[key]; ok {
		return p.Value
	}
	return def
}

// RequiredString returns the value of key, or an error naming it when it is
// not set.
func (c *Context) RequiredString(key string) (string, error) {
	if p, ok := c.props[key]; ok {
		return p.Value, nil
	}
	return "", c.Errorf(key, "is required")
}

// Int returns key as an int, def when unset.
func (c *Context) Int(key string, def int) (int, error) {
	v, err := c.Int64(key, int64(def))
	return int(v), err
}

// Int64 returns key as an int64, def when unset.
func (c *Context) Int64(key string, def int64) (int64, error) {
	p, ok := c.props[key]
	if !ok {
		return def, nil
	}
	v, err := strconv.ParseInt(strings.TrimSpace(p.Value), 10, 64)
	if err != nil {
		return def, c.Errorf(key, "%q is not an integer", p.Value)
	}
	return v, nil
}

// IntRange returns key as an int that must lie in [lo, hi].
func (c *Context) IntRange(key string, def, lo, hi int64) (int64, error) {
	v, err := c.Int64(key, def)
	if err != nil {
		return v, err
	}
	if v < lo || v > hi {
		return def, c.Errorf(key, "%d is out of range [%d, %d]", v, lo, hi)
	}
	return v, nil
}

// Float64 returns key as a float64, def when unset.
func (c *Context) Float64(key string, def float64) (float64, error) {
	p, ok := c.props[key]
	if !ok {
		return def, nil
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(p.Value), 64)
	if err != nil {
		return def, c.Errorf(key, "%q is not a number", p.Value)
	}
	return v, nil
}

// Bool returns key as a bool ("true"/"false", any case), def when unset.
func (c *Context) Bool(key string, def bool) (bool, error) {
	p, ok := c.props[key]
	if !ok {
		return def, nil
	}
	switch strings.ToLower(strings.TrimSpace(p.Value)) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return def, c.Errorf(key, "%q is not true or false", p.Value)
}

// Duration returns key, a whole number of the given unit (Flume keys are plain
// numbers of milliseconds or seconds), as a time.Duration.
func (c *Context) Duration(key string, def time.Duration, unit time.Duration) (time.Duration, error) {
	p, ok := c.props[key]
	if !ok {
		return def, nil
	}
	v, err := strconv.ParseInt(strings.TrimSpace(p.Value), 10, 64)
	if err != nil || v < 0 {
		return def, c.Errorf(key, "%q is not a non-negative integer", p.Value)
	}
	return time.Duration(v) * unit, nil
}

// Sub returns the keys that start with prefix (e.g. "selector."), with the
// prefix removed, as a Context of the same component.
func (c *Context) Sub(prefix string) *Context {
	props := map[string]Property{}
	for k, p := range c.props {
		if rest, ok := strings.CutPrefix(k, prefix); ok && rest != "" {
			props[rest] = p
		}
	}
	return &Context{component: c.component, loc: c.loc, props: props}
}
