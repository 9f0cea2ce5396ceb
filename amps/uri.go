package amps

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// URI is a parsed AMPS connection string:
// transport://[user[:password]@]host:port/protocol[/messagetype][?opt=val&...].
type URI struct {
	Transport   string // tcp, tcps, ws or wss
	User        string
	Password    string
	HasPassword bool
	Host        string
	Port        int
	Protocol    string // always "amps" (the "json" alias is normalised)
	MessageType string // e.g. "json"; empty when the URI names none
	Options     URIOptions
}

// URIOptions are the transport options a URI query string may carry.
type URIOptions struct {
	NoDelay   bool // tcp_nodelay; default false as in the reference clients
	KeepAlive bool // tcp_keepalive; default true
	RecvBuf   int  // tcp_rcvbuf, bytes; 0 leaves the system default
	SendBuf   int  // tcp_sndbuf, bytes
	Linger    int  // tcp_linger, seconds; -1 leaves the system default
	Bind      string
	IPPrefer  string // ip_protocol_prefer: "", "ipv4" or "ipv6"
	Pretty    bool   // pretty: passed to the server as a logon option
	// Compression is "zlib" (compression=zlib: the byte stream is raw
	// deflate both ways, tcp and tcps only) or empty.
	Compression string
	Raw         url.Values
}

// URIError reports a connection string that cannot be used, and why.
type URIError struct {
	URI    string
	Reason string
}

func (e *URIError) Error() string {
	return fmt.Sprintf("amps: invalid URI %q: %s", redact(e.URI), e.Reason)
}

// redact hides a password in a URI for error messages; it works on strings
// that net/url cannot parse too.
func redact(s string) string {
	scheme := strings.Index(s, "://")
	if scheme < 0 {
		return s
	}
	rest := s[scheme+3:]
	at := strings.LastIndex(rest, "@")
	if slash := strings.Index(rest, "/"); slash >= 0 && at > slash {
		at = -1
	}
	if at < 0 {
		return s
	}
	user, _, hasPw := strings.Cut(rest[:at], ":")
	if !hasPw {
		return s
	}
	return s[:scheme+3] + user + ":xxxxx" + rest[at:]
}

// ParseURI parses and validates an AMPS connection string.
func ParseURI(s string) (*URI, error) {
	bad := func(format string, args ...any) (*URI, error) {
		return nil, &URIError{URI: s, Reason: fmt.Sprintf(format, args...)}
	}
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return bad("missing transport (expected tcp:// or tcps://)")
	}
	u := &URI{Transport: strings.ToLower(scheme)}
	switch u.Transport {
	case "tcp", "tcps", "ws", "wss":
	case "unix":
		return bad("transport %q is not supported by this client (use tcp, tcps, ws or wss)", u.Transport)
	default:
		return bad("unknown transport %q (use tcp, tcps, ws or wss)", scheme)
	}
	rest, query, _ := strings.Cut(rest, "?")
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		return bad("fragment not allowed")
	}
	authority, path, _ := strings.Cut(rest, "/")
	if at := strings.LastIndexByte(authority, '@'); at >= 0 {
		userinfo := authority[:at]
		authority = authority[at+1:]
		user, pw, hasPw := strings.Cut(userinfo, ":")
		var err error
		if u.User, err = url.PathUnescape(user); err != nil {
			return bad("bad user name escape: %v", err)
		}
		if hasPw {
			if u.Password, err = url.PathUnescape(pw); err != nil {
				return bad("bad password escape")
			}
			u.HasPassword = true
		}
		if u.User == "" {
			return bad("empty user name before '@'")
		}
	}
	host, portStr, err := net.SplitHostPort(authority)
	if err != nil {
		return bad("host:port required: %v", err)
	}
	if host == "" {
		return bad("empty host")
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 1 || port > 65535 {
		return bad("port %q is not a number in 1..65535", portStr)
	}
	u.Host, u.Port = host, port

	path = strings.TrimSuffix(path, "/")
	var segs []string
	if path != "" {
		segs = strings.Split(path, "/")
	}
	switch len(segs) {
	case 0:
		u.Protocol = "amps"
	case 1, 2:
		u.Protocol = strings.ToLower(segs[0])
		if len(segs) == 2 {
			if u.MessageType = segs[1]; u.MessageType == "" {
				return bad("empty message type segment")
			}
		}
	default:
		return bad("path %q has too many segments (expected /amps[/messagetype])", "/"+path)
	}
	switch u.Protocol {
	case "amps", "json":
		u.Protocol = "amps"
	case "fix", "nvfix", "xml":
		if u.MessageType != "" {
			return bad("specification of message type requires amps protocol")
		}
		return bad("protocol %q is not supported by this client (use amps)", u.Protocol)
	case "":
		return bad("empty protocol segment")
	default:
		return bad("unknown protocol %q (use amps)", u.Protocol)
	}
	if err := u.Options.parse(query); err != nil {
		return bad("%v", err)
	}
	if u.Options.Compression != "" && (u.Transport == "ws" || u.Transport == "wss") {
		// The option compresses the raw TCP stream; a websocket carries
		// frames in messages of its own and has no such mode.
		return bad("option compression applies to tcp and tcps only, not %s", u.Transport)
	}
	return u, nil
}

func (o *URIOptions) parse(query string) error {
	o.KeepAlive = true
	o.Linger = -1
	vals, err := url.ParseQuery(query)
	if err != nil {
		return fmt.Errorf("bad query string: %v", err)
	}
	o.Raw = vals
	boolean := func(k, v string) (bool, error) {
		switch strings.ToLower(v) {
		case "true", "1", "yes", "on":
			return true, nil
		case "false", "0", "no", "off":
			return false, nil
		}
		return false, fmt.Errorf("option %s=%q: want true or false", k, v)
	}
	size := func(k, v string) (int, error) {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("option %s=%q: want a non-negative integer", k, v)
		}
		return n, nil
	}
	for k, vs := range vals {
		v := vs[len(vs)-1]
		switch k {
		case "tcp_nodelay":
			o.NoDelay, err = boolean(k, v)
		case "tcp_keepalive":
			o.KeepAlive, err = boolean(k, v)
		case "tcp_rcvbuf":
			o.RecvBuf, err = size(k, v)
		case "tcp_sndbuf":
			o.SendBuf, err = size(k, v)
		case "tcp_linger":
			o.Linger, err = size(k, v)
		case "bind":
			if _, _, e := net.SplitHostPort(v); e != nil {
				if net.ParseIP(v) == nil {
					err = fmt.Errorf("option bind=%q: want an address or address:port", v)
				} else {
					v = net.JoinHostPort(v, "0")
				}
			}
			o.Bind = v
		case "ip_protocol_prefer":
			switch v {
			case "ipv4", "ipv6":
				o.IPPrefer = v
			default:
				err = fmt.Errorf("option ip_protocol_prefer=%q: want ipv4 or ipv6", v)
			}
		case "pretty":
			o.Pretty, err = boolean(k, v)
		case "compression":
			if v != CompressionZlib {
				err = fmt.Errorf("option compression=%q: only zlib is supported", v)
			}
			o.Compression = v
		case "http_preflight":
			err = fmt.Errorf("option %s is not supported by this client", k)
		default:
			err = fmt.Errorf("unknown option %q", k)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Address is host:port, suitable for net.Dial.
func (u *URI) Address() string { return net.JoinHostPort(u.Host, strconv.Itoa(u.Port)) }

var userEscaper = strings.NewReplacer("%", "%25", ":", "%3A", "@", "%40", "/", "%2F", "?", "%3F", "#", "%23")

// String renders the URI without its password.
func (u *URI) String() string {
	var b strings.Builder
	b.WriteString(u.Transport)
	b.WriteString("://")
	if u.User != "" {
		b.WriteString(userEscaper.Replace(u.User))
		b.WriteByte('@')
	}
	b.WriteString(u.Address())
	b.WriteString("/")
	b.WriteString(u.Protocol)
	if u.MessageType != "" {
		b.WriteString("/")
		b.WriteString(u.MessageType)
	}
	return b.String()
}
