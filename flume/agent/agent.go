package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"ampsflume/flume"
	"ampsflume/flume/config"
	"ampsflume/flume/monitor"
)

// Options configure an Agent.
type Options struct {
	// Logger receives the engine's logs; nil means slog.Default().
	Logger *slog.Logger
	// Clock is read by the sink processors; nil means the system clock.
	Clock Clock
}

func (o Options) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.Default()
	}
	return o.Logger
}

func (o Options) clock() Clock {
	if o.Clock == nil {
		return systemClock{}
	}
	return o.Clock
}

// Agent runs the components of one agent configuration and can replace them
// with those of a new configuration.
type Agent struct {
	opts Options
	log  *slog.Logger

	mu  sync.Mutex
	top *topology
}

// New returns an idle agent.
func New(opts Options) *Agent {
	return &Agent{opts: opts, log: opts.logger()}
}

// Check builds every component of cfg without starting any, and returns the
// problems the factories report (malformed numbers, missing required keys,
// ...), every key of every component in one report: a factory that joins
// several errors yields one problem per error. Together with the problems
// of config.Properties.Agent this is the full validation of a
// configuration; merge the two with Dedup, since a key the engine reads and
// a component checks too (a back-off setting) is reported by both.
func Check(cfg *config.Agent, opts Options) config.Problems {
	_, probs := build(cfg, opts, nil)
	probs.Sort()
	return probs
}

// Start builds and starts cfg: channels, then sinks, then sources. It
// returns a *config.InvalidError listing every problem when a factory
// refuses its configuration; nothing is left running then.
func (a *Agent) Start(ctx context.Context, cfg *config.Agent) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.top != nil {
		return errors.New("agent already started")
	}
	t, probs := build(cfg, a.opts, nil)
	if err := probs.Err(); err != nil {
		return err
	}
	if err := a.startTopology(ctx, t); err != nil {
		return err
	}
	a.top = t
	return nil
}

// Stop stops every source, then every sink, then every channel. In-flight
// Process calls finish first.
func (a *Agent) Stop() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.top == nil {
		return
	}
	a.stopTopology(a.top, nil)
	a.top = nil
}

// Reload replaces the running components with those of cfg. The new
// configuration is built in full first; if any factory refuses it, the error
// is returned and the running components are left untouched. Otherwise every
// source and sink is stopped and the new set started; channels of the same
// name and type that implement flume.Reconfigurable are reconfigured in
// place and keep their queued events.
func (a *Agent) Reload(ctx context.Context, cfg *config.Agent) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	// Validate with throw-away instances: factories do not acquire
	// resources, so building twice is cheap and leaves the old set intact.
	if _, probs := build(cfg, a.opts, nil); probs.HasErrors() {
		return probs.Err()
	}
	old := a.top
	reuse := map[string]*channelNode{}
	if old != nil {
		for _, n := range old.channels {
			c := cfg.Channel(n.name)
			if c == nil || c.Reg == nil || c.Reg.Spec.Alias != n.typ {
				continue
			}
			rc, ok := n.ch.(flume.Reconfigurable)
			if !ok {
				continue
			}
			if err := rc.Reconfigure(c.Context()); err != nil {
				a.log.Warn("channel cannot be reconfigured in place; recreating it (its queued events are lost)", "channel", n.name, "err", err)
				continue
			}
			reuse[n.name] = n
		}
		a.stopTopology(old, reuse)
		a.top = nil
	}
	t, probs := build(cfg, a.opts, reuse)
	if err := probs.Err(); err != nil {
		for _, n := range reuse {
			stopChannel(n, a.log)
		}
		return err
	}
	if err := a.startTopology(ctx, t); err != nil {
		return err
	}
	a.top = t
	return nil
}

// running holds the goroutines of a started topology.
type running struct {
	cancelSources, cancelSinks context.CancelFunc
	sourcesDone, sinksDone     sync.WaitGroup
}

func (a *Agent) startTopology(ctx context.Context, t *topology) error {
	// Channels first; a channel that cannot start refuses the whole
	// configuration, since nothing could flow through it.
	for _, n := range t.channels {
		if n.started {
			continue
		}
		cctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		if err := n.ch.Start(cctx); err != nil {
			cancel()
			for _, m := range t.channels {
				if m.started {
					stopChannel(m, a.log)
				}
			}
			return fmt.Errorf("channel %q: start: %w", n.name, err)
		}
		n.cancel, n.started = cancel, true
		n.counter.MarkStarted()
		a.log.Info("channel started", "channel", n.name, "type", n.typ)
	}
	r := &running{}
	t.run = r
	sinkCtx, cancelSinks := context.WithCancel(ctx)
	r.cancelSinks = cancelSinks
	for _, g := range t.groups {
		for _, s := range g.sinks {
			if err := s.sink.Start(sinkCtx); err != nil {
				a.log.Error("sink failed to start; will retry", "sink", s.name, "err", err)
				_ = s.sink.Stop()
				continue
			}
			s.started.Store(true)
			s.counter.MarkStarted()
		}
		for _, s := range g.sinks {
			s.channel.onCommit(g.runner.wake)
		}
		r.sinksDone.Add(1)
		go func() {
			defer r.sinksDone.Done()
			for _, s := range g.sinks {
				if !s.started.Load() {
					if !startWithRetry(sinkCtx, s.sink, fmt.Sprintf("sink %q", s.name), a.log, g.runner.sleep) {
						return
					}
					s.started.Store(true)
					s.counter.MarkStarted()
				}
			}
			g.runner.run(sinkCtx)
		}()
		a.log.Info("sink runner started", "runner", g.name)
	}
	srcCtx, cancelSources := context.WithCancel(ctx)
	r.cancelSources = cancelSources
	for _, s := range t.sources {
		if err := s.src.Start(srcCtx); err != nil {
			a.log.Error("source failed to start; will retry", "source", s.name, "err", err)
			_ = s.src.Stop()
		} else {
			s.started.Store(true)
			s.counter.MarkStarted()
		}
		if s.started.Load() && s.runner == nil {
			a.log.Info("source started", "source", s.name)
			continue
		}
		r.sourcesDone.Add(1)
		go func() {
			defer r.sourcesDone.Done()
			if !s.started.Load() {
				sleep := realSleep
				if s.runner != nil {
					sleep = s.runner.sleep
				}
				if !startWithRetry(srcCtx, s.src, fmt.Sprintf("source %q", s.name), a.log, sleep) {
					return
				}
				s.started.Store(true)
				s.counter.MarkStarted()
			}
			if s.runner != nil {
				s.runner.run(srcCtx)
			}
		}()
		a.log.Info("source started", "source", s.name, "pollable", s.runner != nil)
	}
	return nil
}

// stopTopology stops sources, then sinks, then the channels not in keep.
func (a *Agent) stopTopology(t *topology, keep map[string]*channelNode) {
	if r := t.run; r != nil {
		r.cancelSources()
		r.sourcesDone.Wait()
	}
	for _, s := range t.sources {
		if s.started.Swap(false) {
			if err := s.src.Stop(); err != nil {
				a.log.Warn("source stop failed", "source", s.name, "err", err)
			}
			s.counter.MarkStopped()
		}
	}
	if r := t.run; r != nil {
		r.cancelSinks()
		waitInterrupting(&r.sinksDone, t.sinks)
	}
	for _, s := range t.sinks {
		if s.started.Swap(false) {
			if err := s.sink.Stop(); err != nil {
				a.log.Warn("sink stop failed", "sink", s.name, "err", err)
			}
			s.counter.MarkStopped()
		}
	}
	for _, n := range t.channels {
		if _, kept := keep[n.name]; kept || !n.started {
			continue
		}
		stopChannel(n, a.log)
	}
	a.log.Info("components stopped")
}

// interruptRepeat is how often stopping sinks interrupts their channels'
// takes again: a sink that was about to begin a transaction when the first
// interrupt came would otherwise wait out a whole keep-alive.
const interruptRepeat = 50 * time.Millisecond

// waitInterrupting waits for the sink runners to return, interrupting the
// takes waiting on the sinks' channels so that no runner sits out a
// keep-alive first.
func waitInterrupting(done *sync.WaitGroup, sinks []*sinkNode) {
	finished := make(chan struct{})
	go func() {
		done.Wait()
		close(finished)
	}()
	var chans []flume.TakeInterrupter
	seen := map[*channelNode]bool{}
	for _, s := range sinks {
		if ti, ok := s.channel.ch.(flume.TakeInterrupter); ok && !seen[s.channel] {
			seen[s.channel] = true
			chans = append(chans, ti)
		}
	}
	if len(chans) == 0 {
		<-finished
		return
	}
	tick := time.NewTicker(interruptRepeat)
	defer tick.Stop()
	for {
		for _, ti := range chans {
			ti.InterruptTakes()
		}
		select {
		case <-finished:
			return
		case <-tick.C:
		}
	}
}

func stopChannel(n *channelNode, log *slog.Logger) {
	if err := n.ch.Stop(); err != nil {
		log.Warn("channel stop failed", "channel", n.name, "err", err)
	}
	if n.cancel != nil {
		n.cancel()
	}
	n.started = false
	n.counter.MarkStopped()
}

// Gather returns the counters of every running component, for monitoring.
func (a *Agent) Gather() []monitor.Component {
	a.mu.Lock()
	t := a.top
	a.mu.Unlock()
	if t == nil {
		return nil
	}
	var out []monitor.Component
	for _, s := range t.sources {
		m := s.counter.Metrics()
		m = append(m, flume.Metric{Name: "SelectorDroppedCount", Value: float64(s.proc.selectorDropped.Load())},
			flume.Metric{Name: "InterceptorDroppedCount", Value: float64(s.proc.interceptorDropped.Load())})
		out = append(out, monitor.Component{Type: monitor.TypeSource, Name: s.name, Metrics: withExtras(m, s.src)})
	}
	for _, n := range t.channels {
		m := n.counter.Metrics(n.ch.Size(), n.ch.Capacity())
		out = append(out, monitor.Component{Type: monitor.TypeChannel, Name: n.name, Metrics: withExtras(m, n.ch)})
	}
	for _, s := range t.sinks {
		out = append(out, monitor.Component{Type: monitor.TypeSink, Name: s.name, Metrics: withExtras(s.counter.Metrics(), s.sink)})
	}
	return out
}

// withExtras appends a component's own metrics, replacing standard ones of
// the same name.
func withExtras(m []flume.Metric, c any) []flume.Metric {
	r, ok := c.(flume.MetricsReporter)
	if !ok {
		return m
	}
	for _, x := range r.ExtraMetrics() {
		replaced := false
		for i := range m {
			if m[i].Name == x.Name {
				m[i], replaced = x, true
			}
		}
		if !replaced {
			m = append(m, x)
		}
	}
	return m
}

// Summary describes the running topology in one line per component, for
// logs and the validate command.
func Summary(cfg *config.Agent) []string {
	var out []string
	for _, s := range cfg.Sources {
		line := fmt.Sprintf("source %s (%s) -> %v", s.Name, s.Type, s.Channels)
		if s.Selector != nil && s.Selector.Type != config.SelectorReplicating {
			line += " via " + s.Selector.Type + " selector"
		}
		if len(s.Interceptors) > 0 {
			var names []string
			for _, i := range s.Interceptors {
				names = append(names, i.Name+"("+i.Type+")")
			}
			line += fmt.Sprintf(", interceptors %v", names)
		}
		out = append(out, line)
	}
	for _, c := range cfg.Channels {
		out = append(out, fmt.Sprintf("channel %s (%s)", c.Name, c.Type))
	}
	for _, s := range cfg.Sinks {
		out = append(out, fmt.Sprintf("sink %s (%s) <- %s", s.Name, s.Type, s.Channel))
	}
	for _, g := range cfg.SinkGroups {
		out = append(out, fmt.Sprintf("sink group %s (%s) %v", g.Name, g.Processor.Type, g.Sinks))
	}
	return out
}
