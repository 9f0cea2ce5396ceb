package agent

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"

	"ampsflume/flume"
)

// channelNode is a running channel and the runners to wake when events are
// committed to it.
type channelNode struct {
	name    string
	ch      flume.Channel
	counter *flume.ChannelCounter
	typ     string

	mu      sync.Mutex
	wakers  []chan struct{}
	started bool
	cancel  context.CancelFunc
}

// onCommit registers a runner's wake-up channel.
func (n *channelNode) onCommit(w chan struct{}) {
	n.mu.Lock()
	n.wakers = append(n.wakers, w)
	n.mu.Unlock()
}

// notify wakes every runner draining this channel. The sends never block: a
// runner that already has a wake-up pending needs no second one.
func (n *channelNode) notify() {
	n.mu.Lock()
	for _, w := range n.wakers {
		select {
		case w <- struct{}{}:
		default:
		}
	}
	n.mu.Unlock()
}

// channelProcessor is the flume.ChannelProcessor handed to a source.
type channelProcessor struct {
	source       string
	interceptors []namedInterceptor
	sel          selector
	channels     []*channelNode
	log          *slog.Logger

	selectorDropped    atomic.Int64
	interceptorDropped atomic.Int64
}

type namedInterceptor struct {
	name string
	flume.Interceptor
}

var _ flume.ChannelProcessor = (*channelProcessor)(nil)

// ProcessEvent delivers one event.
func (p *channelProcessor) ProcessEvent(e *flume.Event) error {
	return p.ProcessEventBatch([]*flume.Event{e})
}

// ProcessEventBatch runs the interceptors, asks the selector for each
// event's channels, and commits each channel's share in its own transaction:
// required channels in order (the first failure is returned), then optional
// ones (failures logged).
func (p *channelProcessor) ProcessEventBatch(events []*flume.Event) error {
	if len(p.interceptors) > 0 {
		kept := make([]*flume.Event, 0, len(events))
		for _, e := range events {
			for _, ic := range p.interceptors {
				if e = ic.Intercept(e); e == nil {
					break
				}
			}
			if e != nil {
				kept = append(kept, e)
			}
		}
		p.interceptorDropped.Add(int64(len(events) - len(kept)))
		events = kept
	}
	if len(events) == 0 {
		return nil
	}
	n := len(p.channels)
	// Fast path: one event list shared by every required channel (the
	// replicating selector with no optional channel).
	if r, ok := p.sel.(*replicating); ok && len(r.optional) == 0 {
		for i, ci := range r.required {
			batch := events
			if i > 0 {
				batch = cloneAll(events)
			}
			if err := p.put(p.channels[ci], batch); err != nil {
				return err
			}
		}
		return nil
	}
	req := make([][]*flume.Event, n)
	opt := make([][]*flume.Event, n)
	for _, e := range events {
		r, o := p.sel.Select(e)
		if len(r) == 0 && len(o) == 0 {
			p.selectorDropped.Add(1)
			continue
		}
		// The first channel gets the event itself, every other one a copy
		// with its own headers, so that sinks on different channels never
		// share a mutable map.
		first := true
		for _, ci := range r {
			req[ci] = append(req[ci], pick(e, &first))
		}
		for _, ci := range o {
			opt[ci] = append(opt[ci], pick(e, &first))
		}
	}
	for ci, batch := range req {
		if len(batch) == 0 {
			continue
		}
		if err := p.put(p.channels[ci], batch); err != nil {
			return err
		}
	}
	for ci, batch := range opt {
		if len(batch) == 0 {
			continue
		}
		if err := p.put(p.channels[ci], batch); err != nil {
			p.log.Warn("optional channel failed; events not delivered to it", "source", p.source, "channel", p.channels[ci].name, "events", len(batch), "err", err)
		}
	}
	return nil
}

func pick(e *flume.Event, first *bool) *flume.Event {
	if *first {
		*first = false
		return e
	}
	return e.Clone()
}

func cloneAll(events []*flume.Event) []*flume.Event {
	out := make([]*flume.Event, len(events))
	for i, e := range events {
		out[i] = e.Clone()
	}
	return out
}

// put commits batch to one channel in one transaction.
func (p *channelProcessor) put(n *channelNode, batch []*flume.Event) (err error) {
	tx := n.ch.NewTransaction()
	if err := tx.Begin(); err != nil {
		tx.Close()
		return wrapChannelErr(n.name, "begin", err)
	}
	for _, e := range batch {
		if err := tx.Put(e); err != nil {
			tx.Rollback()
			tx.Close()
			return wrapChannelErr(n.name, "put", err)
		}
	}
	if err := tx.Commit(); err != nil {
		tx.Close()
		return wrapChannelErr(n.name, "commit", err)
	}
	if err := tx.Close(); err != nil {
		return wrapChannelErr(n.name, "close", err)
	}
	n.notify()
	return nil
}

func wrapChannelErr(channel, op string, err error) error {
	var ce *flume.ChannelError
	if errors.As(err, &ce) {
		return err
	}
	return &flume.ChannelError{Channel: channel, Op: op, Err: err}
}
