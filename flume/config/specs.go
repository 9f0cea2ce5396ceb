package config

import (
	"strings"

	"ampsflume/flume"
)

// Kinds of the components built into the engine: they are configured under a
// source's "selector." prefix and a sink group's "processor." prefix, and have
// no registry entry, but they declare their keys with a flume.Spec like every
// registered component so that validation, `flume-ng help` and the generated
// reference share one declaration.
const (
	KindSelector      flume.Kind = "selector"
	KindSinkProcessor flume.Kind = "sinkprocessor"
)

// selectorSpecs declares the channel selectors; key names are relative to
// the source's "selector." prefix.
var selectorSpecs = []flume.Spec{
	{
		Kind: KindSelector, Alias: SelectorReplicating, Class: "org.apache.flume.channel.ReplicatingChannelSelector",
		Doc: "The default selector: every event goes to every channel of the source. A failure to commit to a required channel fails the batch " +
			"(the source retries it); a failure on an optional channel is logged and ignored.",
		Keys: []flume.Key{
			{Name: "type", Type: "string", Default: SelectorReplicating, Doc: "replicating, multiplexing or load_balancing (or the Java class name)."},
			{Name: "optional", Type: "channel list", Doc: "Channels whose failures are logged and ignored instead of failing the batch."},
		},
	},
	{
		Kind: KindSelector, Alias: SelectorMultiplexing, Class: "org.apache.flume.channel.MultiplexingChannelSelector",
		Doc: "Routes each event by the value of one header: to the channels mapped to that value, else to the default channels. " +
			"Without a default, events whose header is missing or unmapped are dropped and counted in SelectorDroppedCount.",
		Keys: []flume.Key{
			{Name: "type", Type: "string", Default: SelectorReplicating, Doc: "multiplexing."},
			{Name: "header", Type: "string", Default: DefaultSelectorHeader, Doc: "The header whose value chooses the channels."},
			{Name: "mapping.", Type: "channel list", Doc: "mapping.<value>: the required channels of events whose header equals <value>."},
			{Name: "optional.", Type: "channel list", Doc: "optional.<value>: extra optional channels for <value> (failures logged and ignored)."},
			{Name: "default", Type: "channel list", Doc: "The channels of events whose header is missing or has no mapping."},
		},
	},
	{
		Kind: KindSelector, Alias: SelectorLoadBalancing, Class: "org.apache.flume.channel.LoadBalancingChannelSelector",
		Doc: "Sends each event to one of the source's channels, chosen in turn or at random, spreading load over channels read by different sinks.",
		Keys: []flume.Key{
			{Name: "type", Type: "string", Default: SelectorReplicating, Doc: "load_balancing."},
			{Name: "policy", Type: "string", Default: "round_robin", Doc: "round_robin or random."},
		},
	},
}

// processorSpecs declares the sink processors; key names are relative to the
// sink group's "processor." prefix.
var processorSpecs = []flume.Spec{
	{
		Kind: KindSinkProcessor, Alias: ProcessorDefault, Class: "org.apache.flume.sink.DefaultSinkProcessor",
		Doc: "Drives exactly one sink; a sink that is in no group gets one implicitly.",
		Keys: []flume.Key{
			{Name: "type", Type: "string", Default: ProcessorDefault, Doc: "default, failover or load_balance (or the Java class name)."},
		},
	},
	{
		Kind: KindSinkProcessor, Alias: ProcessorFailover, Class: "org.apache.flume.sink.FailoverSinkProcessor",
		Doc: "Sends every batch to the live sink with the highest priority; a sink that fails is parked for 2^failures seconds, " +
			"at most maxpenalty, and the next one takes over.",
		Keys: []flume.Key{
			{Name: "type", Type: "string", Default: ProcessorDefault, Doc: "failover."},
			{Name: "priority.", Type: "int", Doc: "priority.<sink>: the sink's priority, higher is preferred; priorities must differ."},
			{Name: "maxpenalty", Type: "duration(ms)", Default: "30000", Doc: "The longest a failed sink is parked."},
		},
	},
	{
		Kind: KindSinkProcessor, Alias: ProcessorLoadBalance, Class: "org.apache.flume.sink.LoadBalancingSinkProcessor",
		Doc: "Spreads batches over the group's sinks, in turn or at random; a failing sink's batch is tried on the next one. " +
			"With backoff, a failed sink is excluded for 2^failures seconds, at most selector.maxTimeOut.",
		Keys: []flume.Key{
			{Name: "type", Type: "string", Default: ProcessorDefault, Doc: "load_balance."},
			{Name: "selector", Type: "string", Default: "round_robin", Doc: "round_robin or random."},
			{Name: "backoff", Type: "bool", Default: "false", Doc: "Exclude failed sinks for a while."},
			{Name: "selector.maxTimeOut", Type: "duration(ms)", Default: "30000", Doc: "The longest exclusion of a failed sink."},
		},
	},
}

// SelectorSpecs returns the specs of the built-in channel selectors, the
// default first. Key names are relative to a source's "selector." prefix.
func SelectorSpecs() []flume.Spec { return cloneSpecs(selectorSpecs) }

// SinkProcessorSpecs returns the specs of the built-in sink processors, the
// default first. Key names are relative to a sink group's "processor."
// prefix.
func SinkProcessorSpecs() []flume.Spec { return cloneSpecs(processorSpecs) }

// LookupBuiltin finds a selector or sink processor spec by alias or Java
// class name, ignoring case.
func LookupBuiltin(kind flume.Kind, typ string) (flume.Spec, bool) {
	var list []flume.Spec
	switch kind {
	case KindSelector:
		list = selectorSpecs
	case KindSinkProcessor:
		list = processorSpecs
	}
	t := strings.ToLower(strings.TrimSpace(typ))
	for _, s := range list {
		if t == s.Alias || t == strings.ToLower(s.Class) {
			return cloneSpecs([]flume.Spec{s})[0], true
		}
	}
	return flume.Spec{}, false
}

func builtinSpec(kind flume.Kind, alias string) *flume.Spec {
	list := selectorSpecs
	if kind == KindSinkProcessor {
		list = processorSpecs
	}
	for i := range list {
		if list[i].Alias == alias {
			return &list[i]
		}
	}
	panic("config: no built-in " + string(kind) + " " + alias)
}

func cloneSpecs(in []flume.Spec) []flume.Spec {
	out := make([]flume.Spec, len(in))
	for i, s := range in {
		s.Keys = append([]flume.Key(nil), s.Keys...)
		out[i] = s
	}
	return out
}

// commonKeys are the keys the engine itself reads, per kind, in addition to
// a component's own spec. Names follow flume.Key: a trailing "." declares a
// prefix.
var commonKeys = map[flume.Kind][]flume.Key{
	flume.KindSource: {
		{Name: "type", Type: "string", Required: true, Doc: "The source type: an alias or a Java class name."},
		{Name: "channels", Type: "channel list", Required: true, Doc: "The channels the source writes to (space-separated)."},
		{Name: "selector.", Type: "prefix", Doc: "selector.type and the selector's keys (see the selectors reference)."},
		{Name: "interceptors", Type: "name list", Doc: "The interceptors applied to every event, in order (space-separated)."},
		{Name: "interceptors.", Type: "prefix", Doc: "interceptors.<name>.type and that interceptor's keys (see the interceptors reference)."},
		{Name: "backoffSleepIncrement", Type: "duration(ms)", Default: "1000", Doc: "A pollable source's idle back-off grows by this much per empty poll; new data ends the sleep at once."},
		{Name: "maxBackoffSleep", Type: "duration(ms)", Default: "5000", Doc: "The longest idle back-off of a pollable source."},
	},
	flume.KindChannel: {
		{Name: "type", Type: "string", Required: true, Doc: "The channel type: an alias or a Java class name."},
	},
	flume.KindSink: {
		{Name: "type", Type: "string", Required: true, Doc: "The sink type: an alias or a Java class name."},
		{Name: "channel", Type: "channel", Required: true, Doc: "The one channel the sink reads (singular)."},
	},
	KindSinkGroup: {
		{Name: "sinks", Type: "sink list", Required: true, Doc: "The sinks of the group (space-separated); a sink belongs to at most one group."},
		{Name: "processor.", Type: "prefix", Doc: "processor.type and the processor's keys (see the sink processors reference)."},
	},
	flume.KindInterceptor: {
		{Name: "type", Type: "string", Required: true, Doc: "The interceptor type: an alias or a Java Builder class name."},
	},
}

// CommonKeys returns the keys the engine reads for every component of a kind
// (flume.KindSource, KindChannel, KindSink, KindInterceptor, or
// KindSinkGroup), on top of the component type's own keys.
func CommonKeys(kind flume.Kind) []flume.Key {
	return append([]flume.Key(nil), commonKeys[kind]...)
}

func keyNames(keys []flume.Key) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.Name
	}
	return out
}

// specCandidates lists a spec's key names for "did you mean" suggestions.
func specCandidates(s *flume.Spec) []string {
	out := make([]string, len(s.Keys))
	for i, k := range s.Keys {
		out[i] = strings.TrimSuffix(strings.TrimSuffix(k.Name, "<N>"), ".")
	}
	return out
}

// unknownBuiltinKey warns about a key a selector or sink processor does not
// declare; prefix is the key's prefix in the file ("selector.").
func (b *builder) unknownBuiltinKey(loc flume.Location, who, prefix, key string, spec *flume.Spec) {
	kind := "selector"
	if spec.Kind == KindSinkProcessor {
		kind = "processor"
	}
	b.add(Warning, loc, who, prefix+key, "unknown key for a %s %s, ignored%s", spec.Alias, kind, didYouMean(key, specCandidates(spec)))
}

func builtinAliases(specs []flume.Spec) []string {
	out := make([]string, len(specs))
	for i, s := range specs {
		out[i] = s.Alias
	}
	return out
}
