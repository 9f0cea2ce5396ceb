package monitor

import (
	"sort"
	"strings"
	"sync"
	"time"
)

// Node kinds of the status graph, in the order events flow through them.
const (
	NodeSource        = "source"
	NodeSelector      = "selector"
	NodeChannel       = "channel"
	NodeSinkProcessor = "sinkprocessor"
	NodeSink          = "sink"
)

// Node is one box of the status graph: a component with its counters and
// what it reports about itself.
type Node struct {
	ID   string `json:"id"`   // unique in the graph: "<kind>:<name>"
	Kind string `json:"kind"` // one of the Node* constants
	Name string `json:"name"`
	Type string `json:"type,omitempty"` // the configured type (alias)
	// State is "running", "starting" (still retrying its start) or
	// "stopped"; empty for selectors and processors, which have no
	// lifecycle of their own.
	State    string             `json:"state,omitempty"`
	Counters map[string]float64 `json:"counters,omitempty"`
	// Rates are per-second rates of the monotonic counters, computed from
	// two successive samples; absent on the first sample.
	Rates map[string]float64 `json:"rates,omitempty"`
	// Rate is the rate of the node's main flow counter (events accepted,
	// put, drained), when known.
	Rate *float64 `json:"rate,omitempty"`
	// Fill is a channel's occupancy.
	Fill *Fill `json:"fill,omitempty"`
	// Info is what the component reports through flume.StatusReporter
	// (connection state, current URI, last bookmark, ...).
	Info map[string]string `json:"info,omitempty"`
	// Error is the component's last error, when it reports one.
	Error string `json:"error,omitempty"`
	// Details are short facts about the node's configuration (interceptors,
	// selector mapping, member sinks).
	Details []string `json:"details,omitempty"`
}

// Fill is a channel's occupancy.
type Fill struct {
	Size     float64 `json:"size"`
	Capacity float64 `json:"capacity"`
	Percent  float64 `json:"percent"`
}

// Edge is a path events take from one node to another.
type Edge struct {
	From     string `json:"from"`
	To       string `json:"to"`
	Label    string `json:"label,omitempty"`
	Optional bool   `json:"optional,omitempty"`
}

// Status is a snapshot of an agent: its topology and every component's
// state, as served at /status.json and streamed at /events.
type Status struct {
	Agent string `json:"agent,omitempty"`
	Time  int64  `json:"time"` // unix milliseconds of the sample
	Nodes []Node `json:"nodes"`
	Edges []Edge `json:"edges"`
}

// StatusProvider is implemented by gatherers that know their topology (the
// agent). A Gatherer without it is shown as unconnected components.
type StatusProvider interface {
	Status() Status
}

// NodeID is the graph identifier of a component.
func NodeID(kind, name string) string { return kind + ":" + name }

// mainCounter is the counter whose rate a node of the kind shows.
func mainCounter(kind string) string {
	switch kind {
	case NodeSource:
		return "EventAcceptedCount"
	case NodeChannel:
		return "EventPutSuccessCount"
	case NodeSink:
		return "EventDrainSuccessCount"
	}
	return ""
}

// snapshot takes the status of g: from its StatusProvider when it has one,
// otherwise from its counters alone. Fill levels are derived from the
// channel counters, rates from r (nil for none).
func snapshot(g Gatherer, r *rateTracker, now time.Time) Status {
	var st Status
	if p, ok := g.(StatusProvider); ok {
		st = p.Status()
	} else {
		st = statusFromComponents(g.Gather())
	}
	st.Time = now.UnixMilli()
	if st.Nodes == nil {
		st.Nodes = []Node{}
	}
	if st.Edges == nil {
		st.Edges = []Edge{}
	}
	for i := range st.Nodes {
		n := &st.Nodes[i]
		if n.Kind == NodeChannel && n.Counters != nil {
			if c, ok := n.Counters["ChannelCapacity"]; ok {
				n.Fill = &Fill{Size: n.Counters["ChannelSize"], Capacity: c, Percent: n.Counters["ChannelFillPercentage"]}
			}
		}
		if n.Error == "" && n.Info["lastError"] != "" {
			n.Error = n.Info["lastError"]
		}
	}
	if r != nil {
		r.apply(&st, now)
	}
	return st
}

// statusFromComponents makes nodes of bare components.
func statusFromComponents(cs []Component) Status {
	var st Status
	for _, c := range sortedComponents(cs) {
		kind := strings.ToLower(c.Type)
		n := Node{ID: NodeID(kind, c.Name), Kind: kind, Name: c.Name, Counters: map[string]float64{}}
		for _, m := range c.Metrics {
			n.Counters[m.Name] = m.Value
		}
		st.Nodes = append(st.Nodes, n)
	}
	return st
}

// rateTracker turns successive counter samples into per-second rates. A new
// rate is computed only when at least min has passed since the sample it is
// measured against, so that several readers polling at once do not measure
// over tiny, noisy intervals; in between, the last rates are repeated.
type rateTracker struct {
	min time.Duration

	mu     sync.Mutex
	prevAt time.Time
	prev   map[string]map[string]float64 // node → counter → value
	last   map[string]map[string]float64 // node → counter → rate
}

func newRateTracker(min time.Duration) *rateTracker { return &rateTracker{min: min} }

func (r *rateTracker) apply(st *Status, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	cur := make(map[string]map[string]float64, len(st.Nodes))
	for _, n := range st.Nodes {
		if n.Counters != nil {
			cur[n.ID] = n.Counters
		}
	}
	switch dt := now.Sub(r.prevAt); {
	case r.prev == nil:
		r.prev, r.prevAt = cur, now
	case dt >= r.min && dt > 0:
		rates := make(map[string]map[string]float64, len(cur))
		for id, counters := range cur {
			before, ok := r.prev[id]
			if !ok {
				continue
			}
			m := map[string]float64{}
			for name, v := range counters {
				if !isCounter(name) {
					continue
				}
				old, ok := before[name]
				if !ok {
					continue
				}
				d := v - old
				if d < 0 { // the component was rebuilt by a reload
					d = 0
				}
				m[name] = d / dt.Seconds()
			}
			rates[id] = m
		}
		r.prev, r.prevAt, r.last = cur, now, rates
	}
	for i := range st.Nodes {
		n := &st.Nodes[i]
		rates, ok := r.last[n.ID]
		if !ok {
			continue
		}
		n.Rates = rates
		if v, ok := rates[mainCounter(n.Kind)]; ok {
			n.Rate = &v
		}
	}
}

// SortNodes orders nodes by flow position, then name, for stable output.
func SortNodes(nodes []Node) {
	rank := map[string]int{NodeSource: 0, NodeSelector: 1, NodeChannel: 2, NodeSinkProcessor: 3, NodeSink: 4}
	sort.SliceStable(nodes, func(i, j int) bool {
		if ri, rj := rank[nodes[i].Kind], rank[nodes[j].Kind]; ri != rj {
			return ri < rj
		}
		return nodes[i].Name < nodes[j].Name
	})
}
