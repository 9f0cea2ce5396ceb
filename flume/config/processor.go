package config

import (
	"sort"
	"strings"
	"time"

	"ampsflume/flume"
)

// Sink processor types.
const (
	ProcessorDefault     = "default"
	ProcessorFailover    = "failover"
	ProcessorLoadBalance = "load_balance"
)

var processorTypes = map[string]string{
	"default":      ProcessorDefault,
	"failover":     ProcessorFailover,
	"load_balance": ProcessorLoadBalance,
	"org.apache.flume.sink.defaultsinkprocessor":       ProcessorDefault,
	"org.apache.flume.sink.failoversinkprocessor":      ProcessorFailover,
	"org.apache.flume.sink.loadbalancingsinkprocessor": ProcessorLoadBalance,
}

// Processor is a sink group's processor.
type Processor struct {
	Type string
	// Failover: priority per sink (higher is preferred) and the longest a
	// failed sink is parked.
	Priority   map[string]int
	MaxPenalty time.Duration
	// Load balance: "round_robin" or "random", whether failed sinks are
	// excluded for a while, and the longest exclusion.
	Selector   string
	Backoff    bool
	MaxTimeOut time.Duration
}

func (b *builder) groupWiring(c *Component, a *Agent, claimed map[string]string) {
	who := c.Describe()
	p, ok := c.Props["sinks"]
	if !ok {
		b.add(Error, c.Loc, who, "sinks", "missing; set %s.sinkgroups.%s.sinks", b.name, c.Name)
	} else {
		var names []string
		for _, s := range a.Sinks {
			names = append(names, s.Name)
		}
		for _, s := range strings.Fields(p.Value) {
			if a.Sink(s) == nil {
				if !contains(b.lists["sinks"], s) {
					b.add(Error, p.Loc, who, "sinks", "unknown sink %q%s", s, didYouMean(s, names))
				}
				continue
			}
			if g, dup := claimed[s]; dup {
				b.add(Error, p.Loc, who, "sinks", "sink %q already belongs to sink group %q", s, g)
				continue
			}
			if contains(c.Sinks, s) {
				b.add(Warning, p.Loc, who, "sinks", "sink %q listed twice", s)
				continue
			}
			claimed[s] = c.Name
			c.Sinks = append(c.Sinks, s)
		}
	}
	proc := &Processor{Type: ProcessorDefault, Priority: map[string]int{}, MaxPenalty: 30 * time.Second, Selector: "round_robin", MaxTimeOut: 30 * time.Second}
	c.Processor = proc
	props := map[string]flume.Property{}
	for k, v := range c.Props {
		if rest, ok := strings.CutPrefix(k, "processor."); ok {
			props[rest] = v
		} else if k != "sinks" {
			b.add(Warning, v.Loc, who, k, "unknown key for a sink group, ignored%s", didYouMean(k, []string{"sinks", "processor.type"}))
		}
	}
	if tp, ok := props["type"]; ok {
		t, known := processorTypes[strings.ToLower(tp.Value)]
		if !known {
			b.add(Error, tp.Loc, who, "processor.type", "unknown sink processor type %q%s", tp.Value, didYouMean(tp.Value, builtinAliases(processorSpecs)))
			return
		}
		proc.Type = t
	}
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	switch proc.Type {
	case ProcessorDefault:
		if len(c.Sinks) > 1 {
			b.add(Error, c.Loc, who, "processor.type", "the default processor drives exactly one sink, the group has %d; use failover or load_balance", len(c.Sinks))
		}
	case ProcessorFailover:
		prios := map[int]string{}
		for _, k := range keys {
			sink, ok := strings.CutPrefix(k, "priority.")
			if !ok {
				continue
			}
			if !contains(c.Sinks, sink) {
				b.add(Error, props[k].Loc, who, "processor."+k, "sink %q is not in this group%s", sink, didYouMean(sink, c.Sinks))
				continue
			}
			v := int(b.intProp(who, prefixed(props, "processor."), "processor."+k, 0))
			if other, dup := prios[v]; dup {
				b.add(Error, props[k].Loc, who, "processor."+k, "priority %d is also the priority of sink %q; priorities must differ", v, other)
				continue
			}
			prios[v] = sink
			proc.Priority[sink] = v
		}
		proc.MaxPenalty = time.Duration(b.intProp(who, prefixed(props, "processor."), "processor.maxpenalty", 30000)) * time.Millisecond
	case ProcessorLoadBalance:
		if len(c.Sinks) < 2 {
			b.add(Error, c.Loc, who, "sinks", "a load_balance group needs at least 2 sinks, it has %d", len(c.Sinks))
		}
		if s, ok := props["selector"]; ok {
			v := strings.ToLower(s.Value)
			if v != "round_robin" && v != "random" {
				b.add(Error, s.Loc, who, "processor.selector", "%q is not round_robin or random", s.Value)
			}
			proc.Selector = v
		}
		if s, ok := props["backoff"]; ok {
			switch strings.ToLower(s.Value) {
			case "true":
				proc.Backoff = true
			case "false":
			default:
				b.add(Error, s.Loc, who, "processor.backoff", "%q is not true or false", s.Value)
			}
		}
		proc.MaxTimeOut = time.Duration(b.intProp(who, prefixed(props, "processor."), "processor.selector.maxTimeOut", 30000)) * time.Millisecond
	}
	spec := builtinSpec(KindSinkProcessor, proc.Type)
	for _, k := range keys {
		if !spec.Accepts(k) {
			b.unknownBuiltinKey(props[k].Loc, who, "processor.", k, spec)
		}
	}
}

func prefixed(props map[string]flume.Property, prefix string) map[string]flume.Property {
	out := make(map[string]flume.Property, len(props))
	for k, v := range props {
		out[prefix+k] = v
	}
	return out
}
