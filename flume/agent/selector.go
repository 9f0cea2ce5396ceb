package agent

import (
	"math/rand/v2"
	"strings"
	"sync/atomic"

	"ampsflume/flume"
	"ampsflume/flume/config"
)

// selector picks the channels of an event, as indexes into the source's
// channel list.
type selector interface {
	Select(e *flume.Event) (required, optional []int)
}

func newSelector(cfg *config.Selector, channels []string) selector {
	index := map[string]int{}
	for i, ch := range channels {
		index[ch] = i
	}
	idx := func(names []string) []int {
		out := make([]int, 0, len(names))
		for _, n := range names {
			if i, ok := index[n]; ok {
				out = append(out, i)
			}
		}
		return out
	}
	if cfg == nil {
		cfg = &config.Selector{Type: config.SelectorReplicating}
	}
	switch cfg.Type {
	case config.SelectorMultiplexing:
		m := &multiplexing{header: cfg.Header, mapping: map[string][]int{}, optional: map[string][]int{}, def: idx(cfg.Default)}
		for v, names := range cfg.Mapping {
			m.mapping[v] = idx(names)
		}
		for v, names := range cfg.OptionalFor {
			m.optional[v] = idx(names)
		}
		return m
	case config.SelectorLoadBalancing:
		lb := &loadBalancing{random: cfg.Policy == "random"}
		for i := range channels {
			lb.all = append(lb.all, []int{i})
		}
		return lb
	default:
		opt := map[string]bool{}
		for _, o := range cfg.Optional {
			opt[o] = true
		}
		r := &replicating{}
		for i, ch := range channels {
			if opt[ch] {
				r.optional = append(r.optional, i)
			} else {
				r.required = append(r.required, i)
			}
		}
		return r
	}
}

// replicating sends every event to every channel.
type replicating struct{ required, optional []int }

func (r *replicating) Select(*flume.Event) ([]int, []int) { return r.required, r.optional }

// multiplexing routes on the value of one header.
type multiplexing struct {
	header   string
	mapping  map[string][]int
	optional map[string][]int
	def      []int
}

func (m *multiplexing) Select(e *flume.Event) ([]int, []int) {
	v := e.Headers[m.header]
	opt := m.optional[v]
	if strings.TrimSpace(v) == "" {
		return m.def, opt
	}
	if req, ok := m.mapping[v]; ok {
		return req, opt
	}
	return m.def, opt
}

// loadBalancing sends each event to one channel, in turn or at random.
type loadBalancing struct {
	all    [][]int
	next   atomic.Uint64
	random bool
}

func (l *loadBalancing) Select(*flume.Event) ([]int, []int) {
	if len(l.all) == 0 {
		return nil, nil
	}
	if l.random {
		return l.all[rand.IntN(len(l.all))], nil
	}
	return l.all[(l.next.Add(1)-1)%uint64(len(l.all))], nil
}
