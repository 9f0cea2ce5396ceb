package amps

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"time"
)

// ClientVersion is sent in the logon command's version header as
// "<client version>:<language>".
const ClientVersion = "1.0.0.0:go"

// DefaultStreamBuffer is the number of messages a MessageStream holds before
// the connection's reader waits for its consumer.
const DefaultStreamBuffer = 1024

// maxPendingWrite bounds the bytes queued for the socket; a publisher that
// gets further ahead of the network waits, so memory stays bounded when the
// server is slow to read.
const maxPendingWrite = 4 << 20

// Option configures a Client.
type Option func(*options)

type options struct {
	tls              *tls.Config
	dial             func(ctx context.Context, network, addr string) (net.Conn, error)
	heartbeat        time.Duration
	heartbeatTimeout time.Duration
	streamBuffer     int
	logger           *slog.Logger
	version          string
	maxFrame         int
}

// WithTLSConfig sets the TLS configuration used for tcps:// URIs. Without it
// the system roots are used and the server name is the URI's host.
func WithTLSConfig(cfg *tls.Config) Option { return func(o *options) { o.tls = cfg } }

// WithDialer replaces the function that opens the TCP connection.
func WithDialer(dial func(ctx context.Context, network, addr string) (net.Conn, error)) Option {
	return func(o *options) { o.dial = dial }
}

// WithHeartbeat asks the server, after logon, for heartbeats every interval
// (sent to the server in whole seconds, at least 1). The client then beats on
// its own timer and treats silence from the server for twice the interval
// as a disconnect.
func WithHeartbeat(interval time.Duration) Option {
	return func(o *options) { o.heartbeat = interval }
}

// WithHeartbeatTimeout overrides how long the client waits in a read with no
// traffic before declaring the server gone (default twice the heartbeat
// interval). It only applies when a heartbeat is set.
func WithHeartbeatTimeout(d time.Duration) Option {
	return func(o *options) { o.heartbeatTimeout = d }
}

// WithStreamBuffer sets how many messages each MessageStream buffers.
func WithStreamBuffer(n int) Option { return func(o *options) { o.streamBuffer = n } }

// WithLogger sets the logger; the default discards everything.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithVersion overrides the version header sent at logon.
func WithVersion(v string) Option { return func(o *options) { o.version = v } }

// WithMaxFrame sets the largest inbound frame accepted.
func WithMaxFrame(n int) Option { return func(o *options) { o.maxFrame = n } }
