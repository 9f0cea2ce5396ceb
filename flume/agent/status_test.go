package agent

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"testing"
	"time"

	"ampsflume/flume"
	"ampsflume/flume/monitor"
)

// reportingSource is a push source that also reports status and extra
// metrics, as the AMPS source does.
type reportingSource struct{ pushSource }

func (*reportingSource) StatusInfo() map[string]string {
	return map[string]string{"connection": "connected", "uri": "tcp://h:9007/amps/json", "lastBookmark": "7|1|", "lastError": "timeout"}
}

func (*reportingSource) ExtraMetrics() []flume.Metric {
	return []flume.Metric{{Name: "Connected", Value: 1}}
}

func init() {
	flume.RegisterSource(flume.Spec{Alias: "reporting", Keys: []flume.Key{}}, func(env flume.SourceEnv) (flume.Source, error) {
		s := &reportingSource{pushSource{name: env.Name, env: env}}
		pushSources.Store(env.Name, &s.pushSource)
		return s, nil
	})
}

const statusTopology = `a.sources = r1 r2
a.channels = us ca
a.sinks = kus kca solo
a.sinkgroups = g1
a.sources.r1.type = reporting
a.sources.r1.channels = us ca
a.sources.r1.selector.type = multiplexing
a.sources.r1.selector.header = state
a.sources.r1.selector.mapping.US = us
a.sources.r1.selector.mapping.CA = ca
a.sources.r1.selector.default = us
a.sources.r1.interceptors = i1
a.sources.r1.interceptors.i1.type = tag
a.sources.r1.interceptors.i1.value = x
a.sources.r2.type = push
a.sources.r2.channels = us ca
a.sources.r2.selector.optional = ca
a.channels.us.type = testchan
a.channels.us.capacity = 50
a.channels.ca.type = testchan
a.sinks.kus.type = collect
a.sinks.kus.channel = us
a.sinks.kca.type = collect
a.sinks.kca.channel = ca
a.sinks.solo.type = collect
a.sinks.solo.channel = ca
a.sinkgroups.g1.sinks = kus kca
a.sinkgroups.g1.processor.type = failover
`

func TestStatusTopology(t *testing.T) {
	ag := startAgent(t, statusTopology)
	st := ag.Status()
	if st.Agent != "a" {
		t.Errorf("agent %q", st.Agent)
	}
	type nodeKey struct{ id, kind, name, typ string }
	var nodes []nodeKey
	byID := map[string]monitor.Node{}
	for _, n := range st.Nodes {
		nodes = append(nodes, nodeKey{n.ID, n.Kind, n.Name, n.Type})
		byID[n.ID] = n
	}
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].id < nodes[j].id })
	want := []nodeKey{
		{"channel:ca", "channel", "ca", "testchan"},
		{"channel:us", "channel", "us", "testchan"},
		{"selector:r1", "selector", "r1 selector", "multiplexing"},
		{"selector:r2", "selector", "r2 selector", "replicating"},
		{"sink:kca", "sink", "kca", "collect"},
		{"sink:kus", "sink", "kus", "collect"},
		{"sink:solo", "sink", "solo", "collect"},
		{"sinkprocessor:g1", "sinkprocessor", "g1", "failover"},
		{"sinkprocessor:solo runner", "sinkprocessor", "solo runner", "default"},
		{"source:r1", "source", "r1", "reporting"},
		{"source:r2", "source", "r2", "push"},
	}
	if !reflect.DeepEqual(nodes, want) {
		t.Errorf("nodes:\n got %v\nwant %v", nodes, want)
	}

	edges := map[string]monitor.Edge{}
	for _, e := range st.Edges {
		edges[e.From+" > "+e.To] = e
	}
	wantEdges := map[string]monitor.Edge{
		"source:r1 > selector:r1":                {},
		"selector:r1 > channel:us":               {Label: "state=US|default"},
		"selector:r1 > channel:ca":               {Label: "state=CA"},
		"source:r2 > selector:r2":                {},
		"selector:r2 > channel:us":               {},
		"selector:r2 > channel:ca":               {Label: "optional", Optional: true},
		"channel:us > sinkprocessor:g1":          {},
		"channel:ca > sinkprocessor:g1":          {},
		"sinkprocessor:g1 > sink:kus":            {},
		"sinkprocessor:g1 > sink:kca":            {},
		"channel:ca > sinkprocessor:solo runner": {},
		"sinkprocessor:solo runner > sink:solo":  {},
	}
	if len(edges) != len(wantEdges) || len(st.Edges) != len(wantEdges) {
		t.Errorf("edges %v", st.Edges)
	}
	for k, w := range wantEdges {
		e, ok := edges[k]
		if !ok {
			t.Errorf("missing edge %s", k)
			continue
		}
		if e.Label != w.Label || e.Optional != w.Optional {
			t.Errorf("edge %s = %+v, want label %q optional %v", k, e, w.Label, w.Optional)
		}
	}

	r1 := byID["source:r1"]
	if r1.State != "running" || r1.Info["uri"] != "tcp://h:9007/amps/json" || r1.Info["connection"] != "connected" || r1.Counters["Connected"] != 1 {
		t.Errorf("r1 %+v", r1)
	}
	if !reflect.DeepEqual(r1.Details, []string{"interceptors: i1"}) {
		t.Errorf("r1 details %v", r1.Details)
	}
	if g1 := byID["sinkprocessor:g1"]; !reflect.DeepEqual(g1.Details, []string{"sinks: kus, kca"}) {
		t.Errorf("g1 details %v", g1.Details)
	}
	if us := byID["channel:us"]; us.State != "running" || us.Counters["ChannelCapacity"] != 50 {
		t.Errorf("us %+v", us)
	}
	for _, id := range []string{"sink:kus", "sink:solo", "source:r2"} {
		if byID[id].State != "running" {
			t.Errorf("%s state %q", id, byID[id].State)
		}
	}
}

// TestStatusCountersMove checks that the status shows the same counters as
// Gather, as events flow.
func TestStatusCountersMove(t *testing.T) {
	ag := startAgent(t, statusTopology)
	v, _ := pushSources.Load("r2")
	p := v.(*pushSource).env.Processor
	// r2 replicates to us (required) and ca (optional).
	for i := range 5 {
		if err := p.ProcessEvent(flume.NewEvent(fmt.Appendf(nil, "%d", i), nil)); err != nil {
			t.Fatal(err)
		}
	}
	checkFor(t, 10*time.Second, func() error {
		st := monitor.StatusOf(ag)
		var us, drained float64
		for _, n := range st.Nodes {
			switch n.ID {
			case "channel:us":
				us = n.Counters["EventPutSuccessCount"]
				if n.Fill == nil || n.Fill.Capacity != 50 {
					return fmt.Errorf("us fill %+v", n.Fill)
				}
			case "sink:kus", "sink:kca", "sink:solo":
				drained += n.Counters["EventDrainSuccessCount"]
			}
		}
		if us != 5 || drained != 10 {
			return fmt.Errorf("us put %v, drained %v", us, drained)
		}
		return nil
	})
	// Gather and Status agree on every component's counters.
	st := ag.Status()
	for _, c := range ag.Gather() {
		id := monitor.NodeID(map[string]string{monitor.TypeSource: monitor.NodeSource, monitor.TypeChannel: monitor.NodeChannel, monitor.TypeSink: monitor.NodeSink}[c.Type], c.Name)
		var node *monitor.Node
		for i := range st.Nodes {
			if st.Nodes[i].ID == id {
				node = &st.Nodes[i]
			}
		}
		if node == nil {
			t.Errorf("%s missing from the status", id)
			continue
		}
		for _, m := range c.Metrics {
			if m.Name == "SelectorDroppedCount" || m.Name == "InterceptorDroppedCount" {
				continue // shown on the selector node
			}
			if got, ok := node.Counters[m.Name]; !ok || got != m.Value {
				t.Errorf("%s %s = %v, Gather says %v", id, m.Name, got, m.Value)
			}
		}
	}
}

func TestStatusOfStoppedAgent(t *testing.T) {
	ag := New(Options{Logger: quiet})
	if st := ag.Status(); len(st.Nodes) != 0 || st.Nodes == nil || st.Edges == nil {
		t.Fatalf("%+v", st)
	}
	if err := ag.Start(context.Background(), mustConfig(t, statusTopology)); err != nil {
		t.Fatal(err)
	}
	ag.Stop()
	if st := ag.Status(); len(st.Nodes) != 0 {
		t.Fatalf("stopped agent shows %d nodes", len(st.Nodes))
	}
}
