package scenario

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"ampsflume/amps"
	"ampsflume/ampserver"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// Topic (AMPS) and subject (NATS) of every scenario.
const (
	topic   = "orders"
	subject = "orders"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// ourServer is an embedded ampserver on a loopback port.
type ourServer struct {
	srv *ampserver.Server
	uri string
}

// startOurs starts an ampserver; journalDir, when set, journals the topic.
func startOurs(ctx context.Context, journalDir string) (*ourServer, error) {
	cfg := ampserver.DefaultConfig()
	if journalDir != "" {
		cfg.TransactionLog = &ampserver.TransactionLogConfig{
			JournalDirectory: journalDir,
			Topics:           []ampserver.TopicRef{{Name: topic, MessageType: "json"}},
		}
	}
	s, err := ampserver.New(cfg, ampserver.WithLogger(quiet))
	if err != nil {
		return nil, fmt.Errorf("ampserver: %w", err)
	}
	if err := s.Start(ctx); err != nil {
		return nil, fmt.Errorf("ampserver: %w", err)
	}
	return &ourServer{srv: s, uri: "tcp://" + s.TCPAddr().String() + "/amps/json"}, nil
}

func (o *ourServer) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = o.srv.Shutdown(ctx)
}

// client connects and logs on an amps client.
func (o *ourServer) client(ctx context.Context, name string) (*amps.Client, error) {
	c := amps.NewClient(name, amps.WithLogger(quiet))
	if err := c.Connect(ctx, o.uri); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if _, err := c.Logon(ctx); err != nil {
		c.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return c, nil
}

// subscriptions counts the live subscriptions of the named client.
func (o *ourServer) subscriptions(name string) int {
	for _, c := range o.srv.Status().Clients {
		if c.Name == name {
			return c.Subscriptions
		}
	}
	return 0
}

// peerServer is an embedded nats-server on a loopback port.
type peerServer struct {
	srv *natsserver.Server
	url string
}

// startPeer starts a nats-server; storeDir, when set, enables JetStream
// with a file store there, fsynced every syncInterval.
func startPeer(storeDir string, syncInterval time.Duration) (*peerServer, error) {
	opts := &natsserver.Options{
		Host:   "127.0.0.1",
		Port:   -1,
		NoLog:  true,
		NoSigs: true,
	}
	if storeDir != "" {
		opts.JetStream = true
		opts.StoreDir = storeDir
		opts.SyncInterval = syncInterval
	}
	s, err := natsserver.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("nats-server: %w", err)
	}
	go s.Start()
	if !s.ReadyForConnections(30 * time.Second) {
		s.Shutdown()
		return nil, fmt.Errorf("nats-server: not ready")
	}
	return &peerServer{srv: s, url: s.ClientURL()}, nil
}

func (p *peerServer) close() {
	p.srv.Shutdown()
	p.srv.WaitForShutdown()
}

func (p *peerServer) connect(name string) (*nats.Conn, error) {
	nc, err := nats.Connect(p.url, nats.Name(name), nats.NoReconnect())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return nc, nil
}

// window is the credit window publishers share: publish blocks while more
// than max messages are out but not received.
type window struct {
	max      int64
	received func() int64
}

// wait is called before publishing message seq (0-based).
func (w window) wait(ctx context.Context, seq int64) error {
	if w.max <= 0 || seq&255 != 0 {
		return nil
	}
	for seq-w.received() > w.max {
		if err := ctx.Err(); err != nil {
			return err
		}
		time.Sleep(50 * time.Microsecond)
	}
	return nil
}
