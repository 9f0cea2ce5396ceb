package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync/atomic"

	"ampsflume/flume"
	"ampsflume/flume/config"
)

type sinkNode struct {
	name    string
	sink    flume.Sink
	counter *flume.SinkCounter
	channel *channelNode
	started atomic.Bool
}

// groupNode is what one sink runner drives: a sink group, or a lone sink.
type groupNode struct {
	name   string
	group  string // the sink group's name; empty for a lone sink
	ptype  string // the sink processor's type
	sinks  []*sinkNode
	proc   sinkProcessor
	runner *runner
}

type sourceNode struct {
	name     string
	src      flume.Source
	counter  *flume.SourceCounter
	proc     *channelProcessor
	runner   *runner // nil for event-driven sources
	started  atomic.Bool
	channels []*channelNode
}

// topology is a built, not yet started set of components.
type topology struct {
	cfg      *config.Agent
	channels []*channelNode
	sinks    []*sinkNode
	groups   []*groupNode
	sources  []*sourceNode
	run      *running
}

func (t *topology) channel(name string) *channelNode {
	for _, c := range t.channels {
		if c.name == name {
			return c
		}
	}
	return nil
}

// Sink runners use Flume's hard-coded back-off: 1 s more per idle round, at
// most 5 s (and 5 s after an error).
var sinkBackoff = config.DefaultBackoff

// build instantiates every component of cfg through the registry. Channels
// named in reuse are taken as they are instead of being created. Every
// factory error is collected, a joined one (flume.ConfigErrors) as one
// problem per key; the topology is usable only when no error is returned.
func build(cfg *config.Agent, opts Options, reuse map[string]*channelNode) (*topology, config.Problems) {
	t := &topology{cfg: cfg}
	var probs config.Problems
	log := opts.logger()
	for _, c := range cfg.Channels {
		if c.Reg == nil || c.Reg.Channel == nil {
			continue
		}
		if old, ok := reuse[c.Name]; ok {
			t.channels = append(t.channels, &channelNode{name: c.Name, ch: old.ch, counter: old.counter, typ: old.typ, started: old.started, cancel: old.cancel})
			continue
		}
		counter := &flume.ChannelCounter{}
		ch, err := c.Reg.Channel(flume.ChannelEnv{Name: c.Name, Config: c.Context(), Counter: counter, Logger: log.With("channel", c.Name)})
		if err == nil && ch == nil {
			err = fmt.Errorf("factory of type %q returned no channel", c.Type)
		}
		if err != nil {
			probs = append(probs, config.AsProblems(config.Error, err, c.Describe(), c.Loc)...)
			// Keep building the sources and sinks on a stand-in, so that
			// their own problems are reported in the same run; a topology
			// with problems is never started.
			ch = unbuiltChannel{txCap: configuredTxCap(c)}
		}
		t.channels = append(t.channels, &channelNode{name: c.Name, ch: ch, counter: counter, typ: c.Reg.Spec.Alias})
	}
	sinkByName := map[string]*sinkNode{}
	for _, c := range cfg.Sinks {
		chn := t.channel(c.Channel)
		if c.Reg == nil || c.Reg.Sink == nil || chn == nil {
			continue
		}
		counter := &flume.SinkCounter{}
		s, err := c.Reg.Sink(flume.SinkEnv{Name: c.Name, Config: c.Context(), Channel: chn.ch, Counter: counter, Logger: log.With("sink", c.Name)})
		if err == nil && s == nil {
			err = fmt.Errorf("factory of type %q returned no sink", c.Type)
		}
		if err != nil {
			probs = append(probs, config.AsProblems(config.Error, err, c.Describe(), c.Loc)...)
			continue
		}
		n := &sinkNode{name: c.Name, sink: s, counter: counter, channel: chn}
		t.sinks = append(t.sinks, n)
		sinkByName[c.Name] = n
	}
	grouped := map[string]bool{}
	for _, g := range cfg.SinkGroups {
		var members []*sinkNode
		var named []namedSink
		for _, name := range g.Sinks {
			if n := sinkByName[name]; n != nil {
				members = append(members, n)
				named = append(named, namedSink{name: name, sink: n.sink})
				grouped[name] = true
			}
		}
		if len(members) == 0 {
			continue
		}
		proc := newSinkProcessor(g.Processor, named, opts.clock(), log.With("sinkgroup", g.Name))
		gn := newGroup("sink group "+fmt.Sprintf("%q", g.Name), members, proc, log)
		gn.group, gn.ptype = g.Name, config.ProcessorDefault
		if g.Processor != nil && g.Processor.Type != "" {
			gn.ptype = g.Processor.Type
		}
		t.groups = append(t.groups, gn)
	}
	for _, n := range t.sinks {
		if !grouped[n.name] {
			t.groups = append(t.groups, newGroup(fmt.Sprintf("sink %q", n.name), []*sinkNode{n}, defaultProcessor{n.sink}, log))
		}
	}
	for _, c := range cfg.Sources {
		if c.Reg == nil || c.Reg.Source == nil {
			continue
		}
		n, ps := buildSource(c, t, log)
		probs = append(probs, ps...)
		if n != nil {
			t.sources = append(t.sources, n)
		}
	}
	// A factory may report the same mistake twice (two keys checked
	// against one bad value); the user reads it once.
	return t, probs.Dedup()
}

func newGroup(name string, sinks []*sinkNode, proc sinkProcessor, log *slog.Logger) *groupNode {
	g := &groupNode{name: name, sinks: sinks, proc: proc}
	g.runner = newRunner(name, proc.Process, sinkBackoff.Increment, sinkBackoff.Max, log)
	return g
}

func buildSource(c *config.Component, t *topology, log *slog.Logger) (*sourceNode, config.Problems) {
	var probs config.Problems
	n := &sourceNode{name: c.Name, counter: &flume.SourceCounter{}}
	var infos []flume.ChannelInfo
	var names []string
	for _, chName := range c.Channels {
		chn := t.channel(chName)
		if chn == nil {
			return nil, nil // the channel failed to build and is already reported
		}
		n.channels = append(n.channels, chn)
		names = append(names, chName)
		infos = append(infos, flume.ChannelInfo{Name: chName, Capacity: chn.ch.Capacity(), TransactionCapacity: chn.ch.TransactionCapacity()})
	}
	n.proc = &channelProcessor{source: c.Name, sel: newSelector(c.Selector, names), channels: n.channels, log: log}
	for _, ic := range c.Interceptors {
		if ic.Reg == nil || ic.Reg.Interceptor == nil {
			continue
		}
		i, err := ic.Reg.Interceptor(flume.InterceptorEnv{Name: ic.Name, Config: ic.Context(), Logger: log.With("interceptor", ic.Name)})
		if err == nil && i == nil {
			err = fmt.Errorf("factory of type %q returned no interceptor", ic.Type)
		}
		if err != nil {
			probs = append(probs, config.AsProblems(config.Error, err, ic.Context().Component(), ic.Loc)...)
			continue
		}
		n.proc.interceptors = append(n.proc.interceptors, namedInterceptor{name: ic.Name, Interceptor: i})
	}
	r := newRunner(c.Describe(), nil, c.Backoff.Increment, c.Backoff.Max, log)
	src, err := c.Reg.Source(flume.SourceEnv{Name: c.Name, Config: c.Context(), Processor: n.proc, Channels: infos, Counter: n.counter, Wake: r.Wake, Logger: log.With("source", c.Name)})
	if err == nil && src == nil {
		err = fmt.Errorf("factory of type %q returned no source", c.Type)
	}
	if err != nil {
		return nil, append(probs, config.AsProblems(config.Error, err, c.Describe(), c.Loc)...)
	}
	if len(probs) > 0 {
		return nil, probs
	}
	n.src = src
	if p, ok := src.(flume.PollableSource); ok {
		r.process = p.Process
		n.runner = r
	}
	return n, nil
}

// unbuiltChannel stands in for a channel whose factory failed. It reports
// the transactionCapacity its configuration asks for, so that the sources'
// and sinks' checks of their batch sizes against it are made in the same
// run, neither skipped nor made against a zero.
type unbuiltChannel struct{ txCap int }

// configuredTxCap is the channel's transactionCapacity as written, else its
// spec's default, else unlimited (nothing to check against).
func configuredTxCap(c *config.Component) int {
	v := ""
	for _, k := range c.Reg.Spec.Keys {
		if k.Name == "transactionCapacity" {
			v = k.Default
		}
	}
	if p, ok := c.Props["transactionCapacity"]; ok {
		v = p.Value
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n <= 0 {
		return math.MaxInt32
	}
	return n
}

var errUnbuilt = errors.New("channel failed to build")

func (unbuiltChannel) Start(context.Context) error       { return errUnbuilt }
func (unbuiltChannel) Stop() error                       { return nil }
func (unbuiltChannel) NewTransaction() flume.Transaction { return unbuiltTx{} }
func (unbuiltChannel) Capacity() int                     { return 0 }
func (u unbuiltChannel) TransactionCapacity() int        { return u.txCap }
func (unbuiltChannel) Size() int                         { return 0 }

type unbuiltTx struct{}

func (unbuiltTx) Begin() error                { return errUnbuilt }
func (unbuiltTx) Put(*flume.Event) error      { return errUnbuilt }
func (unbuiltTx) Take() (*flume.Event, error) { return nil, errUnbuilt }
func (unbuiltTx) Commit() error               { return errUnbuilt }
func (unbuiltTx) Rollback() error             { return nil }
func (unbuiltTx) Close() error                { return nil }
