package serializer

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"ampsflume/flume"
)

// Serializer writes events to one output stream.
type Serializer interface {
	// AfterCreate is called once, before any Write, on a new empty stream.
	AfterCreate() error
	// AfterReopen is called instead of AfterCreate when appending to an
	// existing stream; it fails for formats that cannot be appended to.
	AfterReopen() error
	// Write serializes one event.
	Write(e *flume.Event) error
	// Flush hands every buffered byte to the writer, ending the current
	// block of a container format.
	Flush() error
	// BeforeClose is called once, before the stream is closed.
	BeforeClose() error
	// SupportsReopen reports whether AfterReopen can work.
	SupportsReopen() bool
}

// Builder makes a serializer writing to w, configured by cfg (the keys under
// the sink's "serializer." prefix, with the prefix removed).
type Builder struct {
	// Name is the alias used in configuration files.
	Name string
	// Class is Flume's builder class name, accepted as an alias.
	Class string
	// Doc says what the serializer writes, for the generated reference.
	Doc string
	// Keys are the serializer's configuration keys, relative to
	// "serializer.".
	Keys []flume.Key
	// Check validates cfg without building anything.
	Check func(cfg *flume.Context) error
	// New builds the serializer.
	New func(cfg *flume.Context, w io.Writer) (Serializer, error)
}

var builders = []*Builder{&textBuilder, &headerAndTextBuilder, &avroEventBuilder}

// Lookup finds a serializer by alias or builder class name, ignoring case.
func Lookup(name string) (*Builder, bool) {
	n := strings.ToLower(strings.TrimSpace(name))
	for _, b := range builders {
		if n == b.Name || n == strings.ToLower(b.Class) {
			return b, true
		}
	}
	return nil, false
}

// Builders returns every serializer, in the order of Names.
func Builders() []*Builder { return append([]*Builder(nil), builders...) }

// Names lists the serializer aliases.
func Names() []string {
	out := make([]string, len(builders))
	for i, b := range builders {
		out[i] = b.Name
	}
	return out
}

// Check validates a serializer name and its configuration; it is what a
// sink's configuration parser calls. key is the sink key that named the
// serializer (for the error message).
func Check(cfg *flume.Context, key, name string) error {
	b, ok := Lookup(name)
	if !ok {
		return cfg.Errorf(key, "unknown serializer %q: use one of %s", name, strings.Join(Names(), ", "))
	}
	if b.Check != nil {
		return b.Check(cfg.Sub(key + "."))
	}
	return nil
}

// New builds the named serializer writing to w. cfg holds the keys under the
// serializer's prefix, with the prefix removed.
func New(name string, cfg *flume.Context, w io.Writer) (Serializer, error) {
	b, ok := Lookup(name)
	if !ok {
		return nil, fmt.Errorf("unknown serializer %q: use one of %s", name, strings.Join(Names(), ", "))
	}
	return b.New(cfg, w)
}

// AppendHeaders appends headers the way a Java map prints itself,
// {k1=v1, k2=v2}, with keys sorted so that output is reproducible (Flume's
// order is the hash map's, which is unspecified).
func AppendHeaders(dst []byte, h map[string]string) []byte {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ", "...)
		}
		dst = append(dst, k...)
		dst = append(dst, '=')
		dst = append(dst, h[k]...)
	}
	return append(dst, '}')
}

// Kind is the kind of serializer specs: serializers are chosen by a sink's
// serializer key rather than registered with the flume registry.
const Kind flume.Kind = "serializer"

// Spec describes the serializer the way registered components are described,
// for `flume-ng help` and the generated reference. Key names are relative to
// the sink's serializer prefix.
func (b *Builder) Spec() flume.Spec {
	return flume.Spec{Kind: Kind, Alias: b.Name, Class: b.Class, Doc: b.Doc, Keys: append([]flume.Key(nil), b.Keys...)}
}
