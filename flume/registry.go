package flume

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Kind is the kind of a component.
type Kind string

const (
	KindSource      Kind = "source"
	KindChannel     Kind = "channel"
	KindSink        Kind = "sink"
	KindInterceptor Kind = "interceptor"
)

// Key declares one configuration key of a component: the single source of
// truth for validation (unknown-key warnings), `flume-ng help <type>`, and the
// generated configuration reference.
type Key struct {
	// Name relative to the component, e.g. "capacity". A name ending in "."
	// declares a prefix: "mapping." accepts "mapping.US", "mapping.CA", ...
	// A name ending in "<N>" declares a numbered family: "uri<N>" accepts
	// "uri1", "uri2", ...
	Name     string
	Type     string // "int", "string", "bool", "duration(ms)", ...
	Default  string
	Required bool
	Doc      string
	// ChannelChecked marks a batch-size key that the component checks
	// itself against the transactionCapacity of the channels it is built
	// with (it sees their real limits). The configuration checker's own
	// batch-size check then skips the key, so that the problem is reported
	// once, in the component's words.
	ChannelChecked bool
}

// Spec describes a component type.
type Spec struct {
	Kind Kind
	// Alias is Flume's short type name ("memory", "file_roll").
	Alias string
	// Class is the Java class name users have in existing configs
	// ("org.apache.flume.channel.MemoryChannel"); optional.
	Class string
	Doc   string
	Keys  []Key
}

// Accepts reports whether key is declared by the spec (exactly or by prefix).
func (s *Spec) Accepts(key string) bool {
	for _, k := range s.Keys {
		if k.Name == key || (strings.HasSuffix(k.Name, ".") && strings.HasPrefix(key, k.Name)) {
			return true
		}
		if base, ok := strings.CutSuffix(k.Name, "<N>"); ok {
			if n, ok := strings.CutPrefix(key, base); ok && n != "" && strings.Trim(n, "0123456789") == "" {
				return true
			}
		}
	}
	return false
}

type (
	// SourceFactory builds a configured source.
	SourceFactory func(env SourceEnv) (Source, error)
	// ChannelFactory builds a configured channel.
	ChannelFactory func(env ChannelEnv) (Channel, error)
	// SinkFactory builds a configured sink.
	SinkFactory func(env SinkEnv) (Sink, error)
	// InterceptorFactory builds a configured interceptor.
	InterceptorFactory func(env InterceptorEnv) (Interceptor, error)
)

// Registration is a registered component type.
type Registration struct {
	Spec        Spec
	Source      SourceFactory
	Channel     ChannelFactory
	Sink        SinkFactory
	Interceptor InterceptorFactory
}

var registry = struct {
	sync.RWMutex
	byName map[Kind]map[string]*Registration
}{byName: map[Kind]map[string]*Registration{}}

func register(r *Registration) {
	registry.Lock()
	defer registry.Unlock()
	m := registry.byName[r.Spec.Kind]
	if m == nil {
		m = map[string]*Registration{}
		registry.byName[r.Spec.Kind] = m
	}
	for _, name := range []string{r.Spec.Alias, r.Spec.Class} {
		if name == "" {
			continue
		}
		key := strings.ToLower(name)
		if _, dup := m[key]; dup {
			panic(fmt.Sprintf("flume: %s type %q registered twice", r.Spec.Kind, name))
		}
		m[key] = r
	}
}

// RegisterSource registers a source type under its alias and class name.
func RegisterSource(spec Spec, f SourceFactory) {
	spec.Kind = KindSource
	register(&Registration{Spec: spec, Source: f})
}

// RegisterChannel registers a channel type.
func RegisterChannel(spec Spec, f ChannelFactory) {
	spec.Kind = KindChannel
	register(&Registration{Spec: spec, Channel: f})
}

// RegisterSink registers a sink type.
func RegisterSink(spec Spec, f SinkFactory) {
	spec.Kind = KindSink
	register(&Registration{Spec: spec, Sink: f})
}

// RegisterInterceptor registers an interceptor type. Flume's interceptor class
// names end in "$Builder"; register that form as Class.
func RegisterInterceptor(spec Spec, f InterceptorFactory) {
	spec.Kind = KindInterceptor
	register(&Registration{Spec: spec, Interceptor: f})
}

// Lookup finds a registered type by alias or class name. Aliases are matched
// without regard to case, as Flume does.
func Lookup(kind Kind, typ string) (*Registration, bool) {
	registry.RLock()
	defer registry.RUnlock()
	r, ok := registry.byName[kind][strings.ToLower(strings.TrimSpace(typ))]
	return r, ok
}

// Registered returns every registration of a kind, sorted by alias.
func Registered(kind Kind) []*Registration {
	registry.RLock()
	defer registry.RUnlock()
	seen := map[*Registration]bool{}
	var out []*Registration
	for _, r := range registry.byName[kind] {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Spec.Alias < out[j].Spec.Alias })
	return out
}

// MetricsReporter is implemented by components with metrics beyond Flume's
// standard counters (for example an AMPS source's connection state); the
// monitoring endpoints add them to the component's entry.
type MetricsReporter interface {
	ExtraMetrics() []Metric
}

// StatusReporter is implemented by components with textual state worth
// showing to an operator (current server URI, last bookmark, last error).
type StatusReporter interface {
	StatusInfo() map[string]string
}
