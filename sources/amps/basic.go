package amps

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	ampsclient "ampsflume/amps"
)

func init() {
	RegisterClientFactory(DefaultClientFactory, BasicClientFactory)
}

// heartbeat lets the client notice a server that died without closing the
// connection, which triggers failover.
const heartbeat = 10 * time.Second

// BasicClientFactory is the default client factory: an HA client over the
// configured URIs (tried round-robin, exponential back-off from 200 ms to
// 20 s with jitter) that logs on, subscribes, and after every disconnect
// reconnects and subscribes again, a bookmark subscription from the store's
// most recent bookmark. It returns at once; the first connection is made in
// the background and reported through ConnectionState.
func BasicClientFactory(ctx context.Context, cfg ClientConfig) (Feed, error) {
	for _, u := range cfg.URIs {
		if _, err := ampsclient.ParseURI(u); err != nil {
			return nil, err
		}
	}
	ha := ampsclient.NewHAClient(cfg.ClientName, ampsclient.NewDefaultServerChooser(cfg.URIs...),
		[]ampsclient.HAOption{ampsclient.WithHALogger(cfg.Logger)},
		ampsclient.WithLogger(cfg.Logger), ampsclient.WithHeartbeat(heartbeat))
	cmd := ampsclient.Command{
		Name:    cfg.Command,
		Topic:   cfg.Topic,
		Filter:  cfg.Filter,
		Options: cfg.Options,
		SubID:   cfg.SubID,
	}
	var resume func() string
	if cfg.Store != nil {
		// Persisted acks cap the resume point at what the server has on
		// disk, so a failover peer that lacks later messages still knows
		// where to resume.
		cmd.AckType = ampsclient.AckPersisted
		store, subID := cfg.Store, cfg.SubID
		resume = func() string { return store.MostRecent(subID) }
	}
	f := &haFeed{ha: ha, chosen: make(chan struct{}), closed: make(chan struct{}), pull: make(chan *Message)}
	sub, err := ha.SubscribeBorrowed(cmd, resume, f.deliver)
	if err != nil {
		return nil, err
	}
	f.sub = sub
	ha.Start(ctx)
	return f, nil
}

var _ QueueFeed = (*haFeed)(nil)

// haFeed is a PushFeed over an HA subscription whose deliveries are lent to
// deliver on the client's reader goroutine. Until the source picks Run or
// Next, deliver waits (the subscription is pushed back, nothing is lost).
type haFeed struct {
	ha  *ampsclient.HAClient
	sub *ampsclient.HASubscription

	once      sync.Once
	closeOnce sync.Once
	chosen    chan struct{} // closed once handle is set
	closed    chan struct{} // closed by Close: releases a waiting deliver
	handle    func(*Message)
	pushed    bool        // Run chose; false after Next chose
	acked     atomic.Bool // an acknowledgement was sent: Close flushes
	pull      chan *Message

	// m is lent to handle for every delivery: reader goroutine only, and
	// handle keeps nothing of it.
	m Message
}

func (f *haFeed) deliver(m *ampsclient.Message) {
	select {
	case <-f.chosen:
	case <-f.closed:
		return
	}
	subID := m.SubID
	if subID == "" {
		// The first of sids, without splitting the list.
		subID, _, _ = strings.Cut(m.SubIDs, ",")
	}
	f.m = Message{
		Command:       m.Command,
		Topic:         m.Topic,
		SowKey:        m.SowKey,
		Timestamp:     m.Timestamp,
		Bookmark:      m.Bookmark,
		CorrelationID: m.CorrelationID,
		SubID:         subID,
		AckType:       m.AckType,
		LeasePeriod:   m.LeasePeriod,
		Data:          m.Data,
	}
	f.handle(&f.m)
	f.m = Message{}
}

// choose sets the consumer once; it tells whether this call set it.
func (f *haFeed) choose(push bool, handle func(*Message)) bool {
	ok := false
	f.once.Do(func() {
		f.handle, f.pushed, ok = handle, push, true
		close(f.chosen)
	})
	return ok
}

// Run implements PushFeed.
func (f *haFeed) Run(ctx context.Context, handle func(*Message)) error {
	if !f.choose(true, handle) {
		return errors.New("amps feed: Run after Next or a second Run")
	}
	select {
	case <-f.sub.Done():
		return f.sub.Err()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Next implements Feed for a reader that pulls: each delivery is copied
// (the source, which pushes, does not come this way) and handed over
// through a channel, which blocks the client until Next takes it.
func (f *haFeed) Next(ctx context.Context) (*Message, error) {
	f.choose(false, func(m *Message) {
		c := *m
		c.Data = bytes.Clone(m.Data)
		select {
		case f.pull <- &c:
		case <-f.closed:
		}
	})
	if f.pushed {
		return nil, errors.New("amps feed: Next after Run")
	}
	select {
	case m := <-f.pull:
		return m, nil
	case <-f.sub.Done():
		return nil, f.sub.Err()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Ack implements QueueFeed with one sow_delete naming the bookmarks, sent
// and not waited for.
func (f *haFeed) Ack(topic string, bookmarks []string) error {
	if len(bookmarks) == 0 {
		return nil
	}
	f.acked.Store(true)
	return f.ha.Client().Send(ampsclient.Command{Name: ampsclient.CmdSowDelete, Topic: topic, Bookmark: strings.Join(bookmarks, ",")})
}

// ackFlushTimeout bounds how long Close waits for the server to process the
// acknowledgements already sent.
const ackFlushTimeout = 5 * time.Second

// Close disconnects; after queue acknowledgements it first waits (at most
// ackFlushTimeout) for the server to process what was sent, since closing
// drops what is still queued for the socket, and a lost acknowledgement
// means a duplicate. The reader goes on meanwhile, so handle must not block
// by then.
func (f *haFeed) Close() error {
	if f.acked.Load() {
		ctx, cancel := context.WithTimeout(context.Background(), ackFlushTimeout)
		_ = f.ha.Client().Flush(ctx) // not connected: the leases are gone anyway
		cancel()
	}
	f.closeOnce.Do(func() { close(f.closed) })
	return f.ha.Close()
}

func (f *haFeed) ConnectionState() ConnectionState {
	st := f.ha.State()
	cs := ConnectionState{Connected: st.Connected, URI: st.URI, Reconnects: st.Reconnects}
	if st.LastError != nil {
		cs.LastError = st.LastError.Error()
	}
	return cs
}
