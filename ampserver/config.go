package ampserver

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is a server configuration: what an AMPS XML configuration file says,
// plus a few limits that have no AMPS element.
type Config struct {
	Name           string
	Admin          AdminConfig
	Transports     []TransportConfig
	SOW            []SOWTopicConfig
	Views          []ViewConfig          // <View> / <ViewDefinition> in <SOW> (view_config.go)
	Queues         []QueueConfig         // <Queue> in <SOW> (queue_config.go)
	TransactionLog *TransactionLogConfig // nil when not configured
	Authentication *AuthConfig           // nil: every logon is accepted
	Replication    *ReplicationConfig    // nil when not configured (replication_config.go)

	// MaxOutboundBytes bounds each client's queue of unsent bytes; a client
	// that falls further behind is disconnected as a slow consumer.
	MaxOutboundBytes int
	// MaxFrame bounds an inbound frame; a larger one closes the connection.
	MaxFrame int

	// File is the configuration file name, for messages; empty when built in code.
	File string
	// Warnings lists elements that were not understood (they are ignored).
	Warnings []string
}

// AdminConfig is the HTTP admin interface; empty InetAddr disables it.
type AdminConfig struct {
	InetAddr string
}

// TransportConfig is one listener.
type TransportConfig struct {
	Name        string
	Type        string // tcp or tcps
	InetAddr    string // host:port (a bare port means all interfaces)
	Protocol    string // amps or websocket
	MessageType string
	ReuseAddr   bool
	Certificate string // tcps: PEM certificate file
	PrivateKey  string // tcps: PEM private key file
	// Compression is "zlib" for a transport whose clients connect with
	// compression=zlib (compress.go), or empty.
	Compression string
}

// SOWTopicConfig is one State-of-the-World topic.
type SOWTopicConfig struct {
	Name        string
	MessageType string
	Keys        []string // JSON paths such as /order_key
	FileName    string   // persistent store, %n = topic name; empty = transient
	Durability  string   // persistent or transient
	// Preprocessing and Enrichment are field constructors such as
	// "/qty * /price AS /total" (enrich.go).
	Preprocessing []string
	Enrichment    []string
	// Expiration is the default lifetime of the topic's records (0: none)
	// and ExpirationEnabled turns expiration on (a non-zero Expiration
	// implies it). With expiration off, records never expire and a
	// publish's `e` header is ignored (expiration.go).
	Expiration        time.Duration
	ExpirationEnabled bool
}

// TransactionLogConfig is kept for the journal; the core server does not use it.
type TransactionLogConfig struct {
	JournalDirectory         string
	MinJournalSize           int64
	PreallocatedJournalFiles int
	FlushInterval            time.Duration
	Topics                   []TopicRef
}

// TopicRef names a topic and its message type.
type TopicRef struct {
	Name        string
	MessageType string
}

// AuthConfig enables password authentication from a file of `user:password`
// lines (blank lines and lines starting with # are ignored).
type AuthConfig struct {
	PasswordFile string
	Users        map[string]string // loaded from PasswordFile, or set in code
}

// Default limits.
const (
	DefaultMaxOutboundBytes = 64 << 20
	DefaultMaxFrame         = 64 << 20
)

// DefaultConfig returns a configuration with one JSON TCP transport on an
// OS-chosen loopback port and no SOW topics; adjust it in code.
func DefaultConfig() *Config {
	return &Config{
		Name: "AMPS",
		Transports: []TransportConfig{{
			Name: "json-tcp", Type: "tcp", InetAddr: "127.0.0.1:0", Protocol: "amps", MessageType: "json",
		}},
		MaxOutboundBytes: DefaultMaxOutboundBytes,
		MaxFrame:         DefaultMaxFrame,
	}
}

// ConfigError is an invalid configuration, located by element and line.
type ConfigError struct {
	File    string
	Line    int
	Element string
	Msg     string
}

func (e *ConfigError) Error() string {
	loc := e.File
	if loc == "" {
		loc = "config"
	}
	if e.Line > 0 {
		loc += ":" + strconv.Itoa(e.Line)
	}
	if e.Element != "" {
		return fmt.Sprintf("%s: <%s>: %s", loc, e.Element, e.Msg)
	}
	return loc + ": " + e.Msg
}

// LoadConfig reads an AMPS XML configuration file.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return ParseConfig(path, data)
}

// node is an element of the configuration document with its line.
type node struct {
	name     string
	text     string
	line     int
	children []*node
}

func parseTree(data []byte) (*node, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	lineAt := func(off int64) int {
		if off > int64(len(data)) {
			off = int64(len(data))
		}
		return bytes.Count(data[:off], []byte{'\n'}) + 1
	}
	var root *node
	var stack []*node
	for {
		off := dec.InputOffset()
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return nil, &ConfigError{Line: se.Line, Msg: "XML syntax: " + se.Msg}
			}
			return nil, &ConfigError{Line: lineAt(dec.InputOffset()), Msg: "XML: " + err.Error()}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := &node{name: t.Name.Local, line: lineAt(off)}
			if len(stack) == 0 {
				if root != nil {
					return nil, &ConfigError{Line: n.line, Element: n.name, Msg: "second root element"}
				}
				root = n
			} else {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text += string(t)
			}
		}
	}
	if root == nil {
		return nil, &ConfigError{Msg: "no root element"}
	}
	return root, nil
}

// ParseConfig parses an AMPS XML configuration; file names the source in errors.
func ParseConfig(file string, data []byte) (*Config, error) {
	root, err := parseTree(data)
	if err != nil {
		var ce *ConfigError
		if errors.As(err, &ce) {
			ce.File = file
		}
		return nil, err
	}
	p := &configParser{file: file}
	cfg := &Config{File: file, MaxOutboundBytes: DefaultMaxOutboundBytes, MaxFrame: DefaultMaxFrame}
	if root.name != "AMPSConfig" {
		return nil, p.errf(root, "root element must be AMPSConfig")
	}
	for _, n := range root.children {
		switch n.name {
		case "Name":
			cfg.Name = n.value()
		case "Admin":
			for _, c := range n.children {
				switch c.name {
				case "InetAddr":
					cfg.Admin.InetAddr = c.value()
				default:
					p.unknown(c)
				}
			}
		case "Transports":
			for _, c := range n.children {
				if c.name != "Transport" {
					p.unknown(c)
					continue
				}
				tc, err := p.transport(c)
				if err != nil {
					return nil, err
				}
				cfg.Transports = append(cfg.Transports, tc)
			}
		case "SOW":
			for _, c := range n.children {
				if c.name == "View" || c.name == "ViewDefinition" {
					vc, err := p.view(c)
					if err != nil {
						return nil, err
					}
					cfg.Views = append(cfg.Views, vc)
					continue
				}
				if c.name == "Queue" || c.name == "QueueDefinition" || c.name == "LocalQueue" {
					qc, err := p.queue(c)
					if err != nil {
						return nil, err
					}
					cfg.Queues = append(cfg.Queues, qc)
					continue
				}
				if c.name != "Topic" {
					p.unknown(c)
					continue
				}
				sc, err := p.sowTopic(c)
				if err != nil {
					return nil, err
				}
				for _, prev := range cfg.SOW {
					if prev.Name == sc.Name {
						return nil, p.errf(c, "SOW topic %q defined twice", sc.Name)
					}
				}
				cfg.SOW = append(cfg.SOW, sc)
			}
		case "TransactionLog":
			tl, err := p.txlog(n)
			if err != nil {
				return nil, err
			}
			cfg.TransactionLog = tl
		case "Authentication":
			ac := &AuthConfig{}
			for _, c := range n.children {
				switch c.name {
				case "PasswordFile", "FileName":
					ac.PasswordFile = c.value()
				default:
					p.unknown(c)
				}
			}
			if ac.PasswordFile == "" {
				return nil, p.errf(n, "Authentication needs a PasswordFile")
			}
			users, err := loadPasswordFile(ac.PasswordFile)
			if err != nil {
				return nil, p.errf(n, "%v", err)
			}
			ac.Users = users
			cfg.Authentication = ac
		case "Replication":
			rc, err := p.replication(n)
			if err != nil {
				return nil, err
			}
			cfg.Replication = rc
		case "Logging", "MessageTypes", "Modules", "Protocols":
			// Accepted and not needed: logging goes through slog and the
			// built-in message types need no declaration.
		default:
			p.unknown(n)
		}
	}
	if cfg.Name == "" {
		return nil, p.errf(root, "Name is required")
	}
	if err := p.checkViews(cfg); err != nil {
		return nil, err
	}
	if err := checkQueues(cfg); err != nil {
		return nil, err
	}
	cfg.Warnings = p.warnings
	return cfg, nil
}

type configParser struct {
	file     string
	warnings []string
}

func (n *node) value() string { return strings.TrimSpace(n.text) }

func (p *configParser) errf(n *node, format string, args ...any) error {
	return &ConfigError{File: p.file, Line: n.line, Element: n.name, Msg: fmt.Sprintf(format, args...)}
}

func (p *configParser) unknown(n *node) {
	p.warnings = append(p.warnings, fmt.Sprintf("%s:%d: unknown element <%s> ignored", p.file, n.line, n.name))
}

func (p *configParser) transport(n *node) (TransportConfig, error) {
	tc := TransportConfig{Type: "tcp", Protocol: "amps"}
	for _, c := range n.children {
		v := c.value()
		switch c.name {
		case "Name":
			tc.Name = v
		case "Type":
			tc.Type = strings.ToLower(v)
		case "InetAddr":
			tc.InetAddr = v
		case "Protocol":
			tc.Protocol = strings.ToLower(v)
		case "MessageType":
			tc.MessageType = v
		case "ReuseAddr":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return tc, p.errf(c, "want true or false, got %q", v)
			}
			tc.ReuseAddr = b
		case "Certificate":
			tc.Certificate = v
		case "PrivateKey":
			tc.PrivateKey = v
		case "Compression":
			switch strings.ToLower(v) {
			case CompressionZlib:
				tc.Compression = CompressionZlib
			case "", "none":
				tc.Compression = ""
			default:
				return tc, p.errf(c, "Compression %q is not supported (zlib or none)", v)
			}
		default:
			p.unknown(c)
		}
	}
	if tc.Name == "" {
		return tc, p.errf(n, "Transport needs a Name")
	}
	switch tc.Type {
	case "tcp", "tcps", TransportReplication:
	default:
		return tc, p.errf(n, "transport %q: Type %q is not supported (tcp or tcps)", tc.Name, tc.Type)
	}
	switch tc.Protocol {
	case "amps", "json", "websocket":
	default:
		return tc, p.errf(n, "transport %q: Protocol %q is not supported (amps or websocket)", tc.Name, tc.Protocol)
	}
	if tc.Protocol == "json" {
		tc.Protocol = "amps"
	}
	if tc.Compression != "" && (tc.Protocol == "websocket" || tc.Type == TransportReplication) {
		return tc, p.errf(n, "transport %q: Compression applies to tcp and tcps transports of the amps protocol only", tc.Name)
	}
	if tc.InetAddr == "" {
		return tc, p.errf(n, "transport %q needs an InetAddr", tc.Name)
	}
	addr, err := normalizeAddr(tc.InetAddr)
	if err != nil {
		return tc, p.errf(n, "transport %q: InetAddr: %v", tc.Name, err)
	}
	tc.InetAddr = addr
	if tc.Type == "tcps" && (tc.Certificate == "" || tc.PrivateKey == "") {
		return tc, p.errf(n, "transport %q: tcps needs Certificate and PrivateKey", tc.Name)
	}
	return tc, nil
}

// normalizeAddr turns a bare port into ":port" and checks the port.
func normalizeAddr(s string) (string, error) {
	if !strings.Contains(s, ":") {
		s = ":" + s
	}
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return "", err
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return "", fmt.Errorf("bad port %q", port)
	}
	return s, nil
}

func (p *configParser) sowTopic(n *node) (SOWTopicConfig, error) {
	sc := SOWTopicConfig{}
	for _, c := range n.children {
		v := c.value()
		switch c.name {
		case "Name", "TopicName":
			sc.Name = v
		case "MessageType":
			sc.MessageType = v
		case "Key":
			if !strings.HasPrefix(v, "/") {
				return sc, p.errf(c, "Key %q must be a path starting with /", v)
			}
			sc.Keys = append(sc.Keys, v)
		case "FileName":
			sc.FileName = v
		case "Durability":
			sc.Durability = strings.ToLower(v)
		case "Expiration":
			ttl, on, err := parseExpiration(v)
			if err != nil {
				return sc, p.errf(c, "SOW topic: %v", err)
			}
			sc.Expiration, sc.ExpirationEnabled = ttl, on
		case "Preprocessing", "Enrichment":
			fs, err := p.fieldList(c)
			if err != nil {
				return sc, err
			}
			if c.name == "Preprocessing" {
				sc.Preprocessing = fs
			} else {
				sc.Enrichment = fs
			}
		default:
			p.unknown(c)
		}
	}
	if sc.Name == "" {
		return sc, p.errf(n, "SOW Topic needs a Name")
	}
	switch sc.Durability {
	case "":
		if sc.FileName != "" {
			sc.Durability = "persistent"
		} else {
			sc.Durability = "transient"
		}
	case "persistent":
		if sc.FileName == "" {
			return sc, p.errf(n, "SOW topic %q: persistent Durability needs a FileName", sc.Name)
		}
	case "transient":
		sc.FileName = ""
	default:
		return sc, p.errf(n, "SOW topic %q: Durability %q (persistent or transient)", sc.Name, sc.Durability)
	}
	return sc, nil
}

func (p *configParser) txlog(n *node) (*TransactionLogConfig, error) {
	tl := &TransactionLogConfig{}
	for _, c := range n.children {
		v := c.value()
		switch c.name {
		case "JournalDirectory":
			tl.JournalDirectory = v
		case "MinJournalSize":
			sz, err := parseSize(v)
			if err != nil {
				return nil, p.errf(c, "%v", err)
			}
			tl.MinJournalSize = sz
		case "PreallocatedJournalFiles":
			k, err := strconv.Atoi(v)
			if err != nil || k < 0 {
				return nil, p.errf(c, "want a non-negative integer, got %q", v)
			}
			tl.PreallocatedJournalFiles = k
		case "FlushInterval":
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 {
				return nil, p.errf(c, "want a duration such as 100ms, got %q", v)
			}
			tl.FlushInterval = d
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
				return nil, p.errf(c, "transaction log Topic needs a Name")
			}
			tl.Topics = append(tl.Topics, tr)
		default:
			p.unknown(c)
		}
	}
	if tl.JournalDirectory == "" {
		return nil, p.errf(n, "TransactionLog needs a JournalDirectory")
	}
	return tl, nil
}

// parseSize reads sizes such as 10MB, 512KB, 1GB or a plain byte count.
func parseSize(s string) (int64, error) {
	u := strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, sfx := range []struct {
		s string
		m int64
	}{{"KB", 1 << 10}, {"MB", 1 << 20}, {"GB", 1 << 30}, {"TB", 1 << 40}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1}} {
		if strings.HasSuffix(u, sfx.s) {
			u, mult = strings.TrimSpace(strings.TrimSuffix(u, sfx.s)), sfx.m
			break
		}
	}
	v, err := strconv.ParseInt(u, 10, 64)
	if err != nil || v < 0 || v > (1<<62)/mult {
		return 0, fmt.Errorf("bad size %q (want e.g. 10MB)", s)
	}
	return v * mult, nil
}

func loadPasswordFile(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("password file: %w", err)
	}
	users := map[string]string{}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		u, pw, ok := strings.Cut(line, ":")
		if !ok || u == "" {
			return nil, fmt.Errorf("password file %s:%d: want user:password", path, i+1)
		}
		users[u] = pw
	}
	return users, nil
}

// sowFileName expands %n in a SOW FileName to the topic name.
func sowFileName(pattern, topic string) string {
	return strings.ReplaceAll(pattern, "%n", topic)
}
