package config

import (
	"sort"
	"strings"

	"ampsflume/flume"
)

// Selector types.
const (
	SelectorReplicating   = "replicating"
	SelectorMultiplexing  = "multiplexing"
	SelectorLoadBalancing = "load_balancing"
)

// DefaultSelectorHeader is the header a multiplexing selector reads when
// selector.header is not set.
const DefaultSelectorHeader = "flume.selector.header"

var selectorTypes = map[string]string{
	"replicating":    SelectorReplicating,
	"multiplexing":   SelectorMultiplexing,
	"load_balancing": SelectorLoadBalancing,
	"org.apache.flume.channel.replicatingchannelselector":   SelectorReplicating,
	"org.apache.flume.channel.multiplexingchannelselector":  SelectorMultiplexing,
	"org.apache.flume.channel.loadbalancingchannelselector": SelectorLoadBalancing,
}

// Selector is a source's channel selector.
type Selector struct {
	Type string
	// Optional are the replicating selector's optional channels.
	Optional []string

	// Multiplexing.
	Header       string
	Mapping      map[string][]string // header value → required channels
	OptionalFor  map[string][]string // header value → optional channels
	Default      []string
	HasDefault   bool
	DropsUnknown bool // no default: unmatched events are dropped

	// Load balancing: "round_robin" or "random".
	Policy string
}

func (b *builder) selector(c *Component) *Selector {
	who := c.Describe()
	sel := &Selector{Type: SelectorReplicating, Header: DefaultSelectorHeader, Policy: "round_robin"}
	props := map[string]flume.Property{}
	for k, v := range c.Props {
		if rest, ok := strings.CutPrefix(k, "selector."); ok {
			props[rest] = v
		}
	}
	if p, ok := props["type"]; ok {
		t, known := selectorTypes[strings.ToLower(p.Value)]
		if !known {
			b.add(Error, p.Loc, who, "selector.type", "unknown selector type %q%s", p.Value, didYouMean(p.Value, builtinAliases(selectorSpecs)))
			return sel
		}
		sel.Type = t
	}
	inSource := map[string]bool{}
	for _, ch := range c.Channels {
		inSource[ch] = true
	}
	// list splits a channel list and checks every name belongs to the source.
	list := func(key string) []string {
		p := props[key]
		var out []string
		for _, ch := range strings.Fields(p.Value) {
			if !inSource[ch] {
				b.add(Error, p.Loc, who, "selector."+key, "channel %q is not one of the source's channels (%s)%s", ch, strings.Join(c.Channels, " "), didYouMean(ch, c.Channels))
				continue
			}
			if !contains(out, ch) {
				out = append(out, ch)
			}
		}
		return out
	}
	all := make([]string, 0, len(props))
	for k := range props {
		all = append(all, k)
	}
	sort.Strings(all)
	// The selector's spec decides which keys exist; the switch below reads
	// only declared keys.
	spec := builtinSpec(KindSelector, sel.Type)
	keys := all[:0:0]
	for _, k := range all {
		if spec.Accepts(k) {
			keys = append(keys, k)
		} else {
			b.unknownBuiltinKey(props[k].Loc, who, "selector.", k, spec)
		}
	}
	switch sel.Type {
	case SelectorReplicating:
		for _, k := range keys {
			switch k {
			case "type":
			case "optional":
				sel.Optional = list(k)
			}
		}
	case SelectorLoadBalancing:
		for _, k := range keys {
			switch k {
			case "type":
			case "policy":
				v := strings.ToLower(props[k].Value)
				if v != "round_robin" && v != "random" {
					b.add(Error, props[k].Loc, who, "selector.policy", "%q is not round_robin or random", props[k].Value)
				}
				sel.Policy = v
			}
		}
	case SelectorMultiplexing:
		sel.Mapping = map[string][]string{}
		sel.OptionalFor = map[string][]string{}
		for _, k := range keys {
			switch {
			case k == "type":
			case k == "header":
				sel.Header = props[k].Value
			case k == "default":
				sel.Default = list(k)
				sel.HasDefault = true
			case strings.HasPrefix(k, "mapping."):
				sel.Mapping[strings.TrimPrefix(k, "mapping.")] = list(k)
			case strings.HasPrefix(k, "optional."):
				sel.OptionalFor[strings.TrimPrefix(k, "optional.")] = list(k)
			}
		}
		// A channel required for a value is not also optional for it.
		for v, opt := range sel.OptionalFor {
			var kept []string
			for _, ch := range opt {
				if !contains(sel.Mapping[v], ch) {
					kept = append(kept, ch)
				}
			}
			sel.OptionalFor[v] = kept
		}
		if !sel.HasDefault {
			sel.DropsUnknown = true
			b.add(Warning, c.Loc, who, "selector.default", "no default: events whose %q header is missing or matches no mapping are dropped (counted in the SelectorDroppedCount metric)", sel.Header)
		}
		if len(sel.Mapping) == 0 && !sel.HasDefault {
			b.add(Error, c.Loc, who, "selector.mapping", "a multiplexing selector needs selector.mapping.<value> or selector.default")
		}
	}
	return sel
}
