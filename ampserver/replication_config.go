package ampserver

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"ampsflume/ampserver/options"
	"ampsflume/ampserver/repl"
)

// TransportReplication is the transport Type of replication links, both
// the incoming transport (a <Transport> under <Transports>) and the
// transport of each <Destination>.
const TransportReplication = "amps-replication"

// ReplicationConfig is the <Replication> element: where this instance sends
// the journal records published to it.
type ReplicationConfig struct {
	Destinations []DestinationConfig
	// Secret, when set, is the shared secret every replication peer must
	// present (and that this instance presents to its destinations). Without
	// it, peers authenticate as users of the server's <Authentication>
	// password file, with the user and password of the destination's
	// InetAddr (user:password@host:port).
	Secret string
	// HeartbeatInterval (<HeartbeatInterval>, an AMPS interval such as 1s
	// or 500ms) is how often an idle link beats, on the incoming links and
	// on every destination without its own; 0 means
	// DefaultReplicationHeartbeat. A side that hears nothing from its peer
	// for ReplicationHeartbeatMisses of the peer's intervals closes the
	// link.
	HeartbeatInterval time.Duration
}

// DefaultReplicationHeartbeat is the heartbeat interval of a replication
// link when the configuration names none.
const DefaultReplicationHeartbeat = time.Second

// ReplicationHeartbeatMisses is how many of the peer's heartbeat intervals
// of silence declare a replication link dead.
const ReplicationHeartbeatMisses = 3

// heartbeat is the interval of the incoming links.
func (rc *ReplicationConfig) heartbeat() time.Duration {
	if rc.HeartbeatInterval > 0 {
		return rc.HeartbeatInterval
	}
	return DefaultReplicationHeartbeat
}

// DestinationConfig is one <Destination>.
type DestinationConfig struct {
	Name     string
	Group    string
	SyncType string     // sync or async
	Topics   []TopicRef // which journaled topics are sent (regex names)
	// Transport: InetAddr is host:port, optionally user:password@host:port.
	InetAddr string
	User     string
	Password string
	// TLS: dial with TLS, trusting CAFile (PEM) if set, else the system
	// roots; ServerName overrides the name checked in the certificate.
	TLS                bool
	CAFile             string
	ServerName         string
	InsecureSkipVerify bool
	// HeartbeatInterval overrides the Replication's for this destination's
	// link (0: the Replication's).
	HeartbeatInterval time.Duration
}

// Sync reports whether publishes wait for this destination before their
// persisted ack.
func (d *DestinationConfig) Sync() bool { return d.SyncType == "sync" }

func (p *configParser) replication(n *node) (*ReplicationConfig, error) {
	rc := &ReplicationConfig{}
	for _, c := range n.children {
		switch c.name {
		case "Destination":
			d, err := p.destination(c)
			if err != nil {
				return nil, err
			}
			for _, prev := range rc.Destinations {
				if prev.Name == d.Name {
					return nil, p.errf(c, "destination %q defined twice", d.Name)
				}
			}
			rc.Destinations = append(rc.Destinations, d)
		case "Secret":
			rc.Secret = c.value()
		case "SecretFile":
			b, err := os.ReadFile(c.value())
			if err != nil {
				return nil, p.errf(c, "%v", err)
			}
			rc.Secret = strings.TrimSpace(string(b))
		case "HeartbeatInterval":
			d, err := p.heartbeatInterval(c)
			if err != nil {
				return nil, err
			}
			rc.HeartbeatInterval = d
		default:
			p.unknown(c)
		}
	}
	return rc, nil
}

func (p *configParser) destination(n *node) (DestinationConfig, error) {
	d := DestinationConfig{SyncType: "async"}
	var transport *node
	for _, c := range n.children {
		v := c.value()
		switch c.name {
		case "Name":
			d.Name = v
		case "Group":
			d.Group = v
		case "SyncType":
			d.SyncType = strings.ToLower(v)
		case "Topic":
			var tr TopicRef
			for _, cc := range c.children {
				switch cc.name {
				case "Name":
					tr.Name = cc.value()
				case "MessageType":
					tr.MessageType = cc.value()
				default:
					p.unknown(cc)
				}
			}
			if tr.Name == "" {
				return d, p.errf(c, "replication Topic needs a Name")
			}
			d.Topics = append(d.Topics, tr)
		case "Transport":
			transport = c
		case "HeartbeatInterval":
			hb, err := p.heartbeatInterval(c)
			if err != nil {
				return d, err
			}
			d.HeartbeatInterval = hb
		case "PassThrough":
			// Every instance here replicates only what was published to it,
			// which is what a pair needs; pass-through chains are not built.
		default:
			p.unknown(c)
		}
	}
	if d.Name == "" {
		return d, p.errf(n, "Destination needs a Name")
	}
	switch d.SyncType {
	case "sync", "async":
	default:
		return d, p.errf(n, "destination %q: SyncType %q (sync or async)", d.Name, d.SyncType)
	}
	if len(d.Topics) == 0 {
		return d, p.errf(n, "destination %q needs at least one Topic", d.Name)
	}
	if transport == nil {
		return d, p.errf(n, "destination %q needs a Transport", d.Name)
	}
	typ := TransportReplication
	for _, c := range transport.children {
		v := c.value()
		switch c.name {
		case "Type":
			typ = strings.ToLower(v)
		case "InetAddr":
			d.InetAddr = v
		case "TLS", "Secure":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return d, p.errf(c, "want true or false, got %q", v)
			}
			d.TLS = b
		case "CAFile", "CACertificate":
			d.CAFile = v
		case "ServerName":
			d.ServerName = v
		case "InsecureSkipVerify":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return d, p.errf(c, "want true or false, got %q", v)
			}
			d.InsecureSkipVerify = b
		case "Name":
		default:
			p.unknown(c)
		}
	}
	if typ != TransportReplication {
		return d, p.errf(transport, "destination %q: transport Type %q (want %s)", d.Name, typ, TransportReplication)
	}
	if cred, hostport, ok := strings.Cut(d.InetAddr, "@"); ok {
		d.User, d.Password, _ = strings.Cut(cred, ":")
		d.InetAddr = hostport
	}
	if d.InetAddr == "" {
		return d, p.errf(transport, "destination %q needs an InetAddr", d.Name)
	}
	addr, err := normalizeAddr(d.InetAddr)
	if err != nil {
		return d, p.errf(transport, "destination %q: InetAddr: %v", d.Name, err)
	}
	if strings.HasPrefix(addr, ":") {
		addr = "localhost" + addr
	}
	d.InetAddr = addr
	if d.CAFile != "" {
		if _, err := os.Stat(d.CAFile); err != nil {
			return d, p.errf(transport, "destination %q: %v", d.Name, err)
		}
	}
	return d, nil
}

// heartbeatInterval parses a <HeartbeatInterval> (AMPS interval syntax).
func (p *configParser) heartbeatInterval(c *node) (time.Duration, error) {
	d, err := options.ParseInterval(c.value())
	if err != nil {
		return 0, p.errf(c, "%v", err)
	}
	if d < time.Millisecond || d > repl.MaxHeartbeat {
		return 0, p.errf(c, "HeartbeatInterval %s is outside 1ms to %s", d, repl.MaxHeartbeat)
	}
	return d, nil
}

// validateReplication checks what needs the whole configuration.
func validateReplication(c *Config) error {
	rc := c.Replication
	if rc == nil {
		return nil
	}
	if c.TransactionLog == nil {
		return fmt.Errorf("replication needs a TransactionLog: only journaled topics are replicated")
	}
	return nil
}
