package amps

import (
	"context"
	"strings"
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
	sub, err := ha.Subscribe(cmd, resume)
	if err != nil {
		return nil, err
	}
	ha.Start(ctx)
	return &haFeed{ha: ha, sub: sub}, nil
}

type haFeed struct {
	ha  *ampsclient.HAClient
	sub *ampsclient.HASubscription
	// m is handed out by every Next: the source is done with a Message
	// before it asks for the next one (Feed's contract), so one suffices.
	m Message
}

func (f *haFeed) Next(ctx context.Context) (*Message, error) {
	m, err := f.sub.Next(ctx)
	if err != nil {
		return nil, err
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
		// The client's Message owns its payload (a private copy), and
		// nothing else refers to it once delivered: the event takes it.
		Data: m.Data,
	}
	return &f.m, nil
}

func (f *haFeed) Close() error { return f.ha.Close() }

func (f *haFeed) ConnectionState() ConnectionState {
	st := f.ha.State()
	cs := ConnectionState{Connected: st.Connected, URI: st.URI, Reconnects: st.Reconnects}
	if st.LastError != nil {
		cs.LastError = st.LastError.Error()
	}
	return cs
}
