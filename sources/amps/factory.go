package amps

import (
	"context"
	"log/slog"
	"sort"
	"sync"

	"ampsflume/amps/bookmark"
	"ampsflume/flume"
)

// Message is an AMPS message as the source needs it. Data is handed over
// with the message: a feed must not reuse or modify it, and the source keeps
// it as the event body without copying. The Message itself is the feed's:
// it may reuse it for its next message.
type Message struct {
	Command       string // publish, sow, oof, group_begin, group_end, ack, ...
	Topic         string
	SowKey        string
	Timestamp     string // the AMPS timestamp (needs the timestamp option)
	Bookmark      string
	CorrelationID string
	SubID         string
	AckType       string // on acks
	// LeasePeriod is set on a message from a queue (the lease end, `lp`):
	// the source acknowledges it by Bookmark once it is committed.
	LeasePeriod string
	Data        []byte
}

// Feed is a running subscription: the seam between the source and an AMPS
// client. Next blocks until a message arrives; its Message is only read until
// the next call of Next (its Data is kept); a feed that reconnects hides
// its reconnections behind Next. Next returns io.EOF when the command has
// finished (a sow query), the context's error when it is cancelled, and any
// other error when the feed has given up.
type Feed interface {
	Next(ctx context.Context) (*Message, error)
	// Close stops the subscription and disconnects.
	Close() error
}

// PushFeed is a Feed that can instead hand each message to the source as it
// arrives, on the client's own goroutine, which spares a goroutine hand-off
// and a Message per message. Run is called at most once, instead of Next:
// it calls handle for every message, one call at a time and in arrival
// order, until the feed ends, and returns what Next would have returned
// then (io.EOF, the context's error, or the error it gave up with). The
// Message and its Data are lent for the call only: handle copies what it
// keeps (header strings may be kept). A handle that blocks blocks the feed,
// which pushes back on the server; the feed drops nothing. Once Close has
// returned, handle is not called again.
type PushFeed interface {
	Feed
	Run(ctx context.Context, handle func(*Message)) error
}

// QueueFeed is a Feed that can acknowledge queue messages. Ack sends one
// acknowledgement of bookmarks to the queue topic over the current
// connection, without waiting for the server's answer (the feed's reader may
// be held up by a full buffer and could not read it). An acknowledgement of
// a message leased on an earlier connection is void: the server has put that
// message back and delivers it again.
type QueueFeed interface {
	Feed
	Ack(topic string, bookmarks []string) error
}

// ConnectionState is what a feed reports about its connection.
type ConnectionState struct {
	Connected  bool
	URI        string // current (or last tried) server
	Reconnects int64  // successful reconnections after the first connect
	LastError  string
}

// StatusFeed is implemented by feeds that can report their connection.
type StatusFeed interface {
	ConnectionState() ConnectionState
}

// ClientConfig is what a client factory receives.
type ClientConfig struct {
	ClientName string
	URIs       []string
	Command    string
	Topic      string
	Filter     string
	Options    string
	// SubID is the subscription id; set for bookmark subscriptions, and
	// whenever subscriptionId is configured.
	SubID string
	// Store, when non-nil, makes the subscription a bookmark subscription:
	// it starts, and restarts after every reconnect, from
	// Store.MostRecent(SubID), and persisted acks go to Store.Persisted. The
	// source logs, discards and de-duplicates.
	Store bookmark.Store
	// Properties holds every key of the source, for factories with keys of
	// their own.
	Properties *flume.Context
	Logger     *slog.Logger
}

// ClientFactory connects to AMPS and starts the subscription. It should
// return promptly: a factory whose servers are down may return a feed that
// keeps trying in the background (and reports it through StatusFeed).
type ClientFactory func(ctx context.Context, cfg ClientConfig) (Feed, error)

var factories = struct {
	sync.RWMutex
	m map[string]ClientFactory
}{m: map[string]ClientFactory{}}

// RegisterClientFactory makes a factory selectable with clientFactoryClass.
// Registering a name again replaces the factory.
func RegisterClientFactory(name string, f ClientFactory) {
	factories.Lock()
	defer factories.Unlock()
	factories.m[name] = f
}

func lookupFactory(name string) (ClientFactory, bool) {
	factories.RLock()
	defer factories.RUnlock()
	f, ok := factories.m[name]
	return f, ok
}

func factoryNames() []string {
	factories.RLock()
	defer factories.RUnlock()
	names := make([]string, 0, len(factories.m))
	for n := range factories.m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
