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
	if r, ok := p.sel.(*replicating); ok {
		return p.replicate(r, events)
	}
	n := len(p.channels)
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

// replicate is ProcessEventBatch for the replicating selector, which sends
// every event everywhere: the batch goes to each channel whole, without
// asking the selector about each event. The first channel gets the events
// themselves and every other one copies, all made before the first put:
// once a channel holds the events, its sinks may change their headers.
func (p *channelProcessor) replicate(r *replicating, events []*flume.Event) error {
	if len(r.optional) == 0 && len(r.required) == 1 {
		return p.put(p.channels[r.required[0]], events)
	}
	if len(r.required)+len(r.optional) == 0 {
		p.selectorDropped.Add(int64(len(events)))
		return nil
	}
	batches := make([][]*flume.Event, len(r.required)+len(r.optional))
	batches[0] = events
	for i := 1; i < len(batches); i++ {
		batches[i] = cloneAll(events)
	}
	for i, ci := range r.required {
		if err := p.put(p.channels[ci], batches[i]); err != nil {
			return err
		}
	}
	for i, ci := range r.optional {
		if err := p.put(p.channels[ci], batches[len(r.required)+i]); err != nil {
			p.log.Warn("optional channel failed; events not delivered to it", "source", p.source, "channel", p.channels[ci].name, "events", len(events), "err", err)
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

// cloneAll is Clone for every event, with the copies carved out of one
// allocation: each still has its own header map.
func cloneAll(events []*flume.Event) []*flume.Event {
	out := make([]*flume.Event, len(events))
	copies := make([]flume.Event, len(events))
	for i, e := range events {
		h := make(map[string]string, len(e.Headers))
		for k, v := range e.Headers {
			h[k] = v
		}
		copies[i] = flume.Event{Headers: h, Body: e.Body}
		out[i] = &copies[i]
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
