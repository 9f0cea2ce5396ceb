package agent

import (
	"fmt"
	"sort"
	"strings"

	"ampsflume/flume"
	"ampsflume/flume/config"
	"ampsflume/flume/monitor"
)

var _ monitor.StatusProvider = (*Agent)(nil)

// Status describes the running topology for the monitoring status page:
// sources → selectors → channels → sink processors → sinks, each node with
// its counters (the same values Gather reports) and what the component
// reports through flume.StatusReporter. It implements
// monitor.StatusProvider.
func (a *Agent) Status() monitor.Status {
	a.mu.Lock()
	t := a.top
	a.mu.Unlock()
	if t == nil {
		return monitor.Status{Nodes: []monitor.Node{}, Edges: []monitor.Edge{}}
	}
	st := monitor.Status{Agent: t.cfg.Name}
	add := func(n monitor.Node, c any) {
		if r, ok := c.(flume.StatusReporter); ok {
			if info := r.StatusInfo(); len(info) > 0 {
				n.Info = info
			}
		}
		st.Nodes = append(st.Nodes, n)
	}
	edge := func(from, to, label string, optional bool) {
		st.Edges = append(st.Edges, monitor.Edge{From: from, To: to, Label: label, Optional: optional})
	}
	cfgOf := func(cs []*config.Component, name string) *config.Component {
		for _, c := range cs {
			if c.Name == name {
				return c
			}
		}
		return nil
	}

	for _, s := range t.sources {
		c := cfgOf(t.cfg.Sources, s.name)
		id := monitor.NodeID(monitor.NodeSource, s.name)
		n := monitor.Node{ID: id, Kind: monitor.NodeSource, Name: s.name, Type: typeOf(c), State: state(s.started.Load(), s.counter.Metrics())}
		n.Counters = counters(withExtras(s.counter.Metrics(), s.src))
		if len(s.proc.interceptors) > 0 {
			var names []string
			for _, i := range s.proc.interceptors {
				names = append(names, i.name)
			}
			n.Details = append(n.Details, "interceptors: "+strings.Join(names, ", "))
		}
		add(n, s.src)

		sel := &config.Selector{Type: config.SelectorReplicating}
		if c != nil && c.Selector != nil {
			sel = c.Selector
		}
		selID := monitor.NodeID(monitor.NodeSelector, s.name)
		sn := monitor.Node{ID: selID, Kind: monitor.NodeSelector, Name: s.name + " selector", Type: sel.Type,
			Counters: map[string]float64{
				"SelectorDroppedCount":    float64(s.proc.selectorDropped.Load()),
				"InterceptorDroppedCount": float64(s.proc.interceptorDropped.Load()),
			}}
		if sel.Type == config.SelectorMultiplexing {
			sn.Details = append(sn.Details, "header: "+sel.Header)
			if sel.DropsUnknown {
				sn.Details = append(sn.Details, "unmatched events are dropped")
			}
		}
		if sel.Type == config.SelectorLoadBalancing && sel.Policy != "" {
			sn.Details = append(sn.Details, "policy: "+sel.Policy)
		}
		add(sn, nil)
		edge(id, selID, "", false)
		for _, ch := range s.channels {
			label, optional := selectorEdge(sel, ch.name)
			edge(selID, monitor.NodeID(monitor.NodeChannel, ch.name), label, optional)
		}
	}

	for _, ch := range t.channels {
		n := monitor.Node{ID: monitor.NodeID(monitor.NodeChannel, ch.name), Kind: monitor.NodeChannel, Name: ch.name, Type: ch.typ}
		m := ch.counter.Metrics(ch.ch.Size(), ch.ch.Capacity())
		// started is guarded by the agent's lock; the counter's times are
		// atomics and say the same.
		n.State = state(startTime(m) > 0, m)
		n.Counters = counters(withExtras(m, ch.ch))
		add(n, ch.ch)
	}

	for _, g := range t.groups {
		name, typ := g.group, g.ptype
		if name == "" {
			// A lone sink runs under Flume's default sink processor.
			name, typ = g.sinks[0].name+" runner", config.ProcessorDefault
		}
		pid := monitor.NodeID(monitor.NodeSinkProcessor, name)
		pn := monitor.Node{ID: pid, Kind: monitor.NodeSinkProcessor, Name: name, Type: typ}
		var members []string
		fromChannel := map[string]bool{}
		for _, s := range g.sinks {
			members = append(members, s.name)
			if !fromChannel[s.channel.name] {
				fromChannel[s.channel.name] = true
				edge(monitor.NodeID(monitor.NodeChannel, s.channel.name), pid, "", false)
			}
			edge(pid, monitor.NodeID(monitor.NodeSink, s.name), "", false)
		}
		if g.group != "" {
			pn.Details = append(pn.Details, "sinks: "+strings.Join(members, ", "))
		}
		add(pn, g.proc)
	}

	for _, s := range t.sinks {
		c := cfgOf(t.cfg.Sinks, s.name)
		m := s.counter.Metrics()
		n := monitor.Node{ID: monitor.NodeID(monitor.NodeSink, s.name), Kind: monitor.NodeSink, Name: s.name, Type: typeOf(c), State: state(s.started.Load(), m)}
		n.Counters = counters(withExtras(m, s.sink))
		add(n, s.sink)
	}
	return st
}

// typeOf names a component's type by its alias when the registry knows it,
// so that Java class names show as the short names.
func typeOf(c *config.Component) string {
	switch {
	case c == nil:
		return ""
	case c.Reg != nil && c.Reg.Spec.Alias != "":
		return c.Reg.Spec.Alias
	}
	return c.Type
}

// state tells a running component from one still retrying its start (never
// started) and from a stopped one.
func state(started bool, m []flume.Metric) string {
	stopped := false
	for _, x := range m {
		if x.Name == "StopTime" && x.Value > 0 {
			stopped = true
		}
	}
	switch {
	case started && !stopped:
		return "running"
	case stopped:
		return "stopped"
	}
	return "starting"
}

func startTime(m []flume.Metric) float64 {
	for _, x := range m {
		if x.Name == "StartTime" {
			return x.Value
		}
	}
	return 0
}

func counters(m []flume.Metric) map[string]float64 {
	out := make(map[string]float64, len(m))
	for _, x := range m {
		out[x.Name] = x.Value
	}
	return out
}

// selectorEdge labels the path from a selector to a channel: the header
// values that route there for a multiplexing selector, "optional" for an
// optional channel of a replicating one.
func selectorEdge(sel *config.Selector, channel string) (label string, optional bool) {
	switch sel.Type {
	case config.SelectorMultiplexing:
		var vals []string
		for v, chs := range sel.Mapping {
			for _, c := range chs {
				if c == channel {
					vals = append(vals, v)
				}
			}
		}
		var opt []string
		for v, chs := range sel.OptionalFor {
			for _, c := range chs {
				if c == channel {
					opt = append(opt, v)
				}
			}
		}
		sort.Strings(vals)
		sort.Strings(opt)
		for _, c := range sel.Default {
			if c == channel {
				vals = append(vals, "default")
			}
		}
		parts := []string{}
		if len(vals) > 0 {
			parts = append(parts, sel.Header+"="+strings.Join(vals, "|"))
		}
		if len(opt) > 0 {
			parts = append(parts, fmt.Sprintf("optional %s=%s", sel.Header, strings.Join(opt, "|")))
		}
		return strings.Join(parts, "; "), len(vals) == 0 && len(opt) > 0
	case config.SelectorLoadBalancing:
		return "", false
	}
	for _, o := range sel.Optional {
		if o == channel {
			return "optional", true
		}
	}
	return "", false
}
