package amps

import (
	"errors"
	"strings"
	"testing"
)

func TestParseURI(t *testing.T) {
	tests := []struct {
		in                            string
		transport, user, pw, host, mt string
		port                          int
		str                           string
	}{
		{in: "tcp://localhost:9007/amps/json", transport: "tcp", host: "localhost", port: 9007, mt: "json",
			str: "tcp://localhost:9007/amps/json"},
		{in: "tcps://bob:s3cret@amps.example.com:443/amps/json", transport: "tcps", user: "bob", pw: "s3cret",
			host: "amps.example.com", port: 443, mt: "json", str: "tcps://bob@amps.example.com:443/amps/json"},
		{in: "tcp://127.0.0.1:9007/amps", transport: "tcp", host: "127.0.0.1", port: 9007,
			str: "tcp://127.0.0.1:9007/amps"},
		{in: "tcp://127.0.0.1:9007", transport: "tcp", host: "127.0.0.1", port: 9007,
			str: "tcp://127.0.0.1:9007/amps"},
		{in: "tcp://[::1]:9007/json/", transport: "tcp", host: "::1", port: 9007, str: "tcp://[::1]:9007/amps"},
		{in: "TCP://h:1/amps/nvfix", transport: "tcp", host: "h", port: 1, mt: "nvfix", str: "tcp://h:1/amps/nvfix"},
		{in: "tcp://us%40er:p%3Aw@h:2/amps/json", transport: "tcp", user: "us@er", pw: "p:w", host: "h", port: 2,
			mt: "json", str: "tcp://us%40er@h:2/amps/json"},
		{in: "tcp://h:3/amps/json?tcp_nodelay=true&tcp_rcvbuf=65536&bind=127.0.0.1&pretty=true", transport: "tcp",
			host: "h", port: 3, mt: "json", str: "tcp://h:3/amps/json"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			u, err := ParseURI(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if u.Transport != tt.transport || u.User != tt.user || u.Password != tt.pw || u.Host != tt.host ||
				u.Port != tt.port || u.MessageType != tt.mt || u.Protocol != "amps" {
				t.Fatalf("got %+v", u)
			}
			if got := u.String(); got != tt.str {
				t.Fatalf("String() = %q, want %q", got, tt.str)
			}
		})
	}
}

func TestParseURIOptions(t *testing.T) {
	u, err := ParseURI("tcp://h:3/amps/json?tcp_nodelay=true&tcp_keepalive=false&tcp_rcvbuf=65536&tcp_sndbuf=1024&tcp_linger=5&bind=127.0.0.1&ip_protocol_prefer=ipv4&pretty=true")
	if err != nil {
		t.Fatal(err)
	}
	o := u.Options
	if !o.NoDelay || o.KeepAlive || o.RecvBuf != 65536 || o.SendBuf != 1024 || o.Linger != 5 ||
		o.Bind != "127.0.0.1:0" || o.IPPrefer != "ipv4" || !o.Pretty {
		t.Fatalf("options %+v", o)
	}
	u, err = ParseURI("tcp://h:3/amps/json")
	if err != nil {
		t.Fatal(err)
	}
	if !u.Options.KeepAlive || u.Options.Linger != -1 {
		t.Fatalf("defaults %+v", u.Options)
	}
}

func TestParseURIErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"localhost:9007", "missing transport"},
		{"http://h:1/amps", "unknown transport"},
		{"unix://h:1/amps", "not supported"},
		{"tcp://h/amps", "host:port"},
		{"tcp://:9007/amps", "empty host"},
		{"tcp://h:0/amps", "port"},
		{"tcp://h:70000/amps", "port"},
		{"tcp://h:x/amps", "port"},
		{"tcp://h:1/fix/json", "requires amps protocol"},
		{"tcp://h:1/xml", "not supported"},
		{"tcp://h:1/soap/json", "unknown protocol"},
		{"tcp://h:1/amps/json/extra", "too many segments"},
		{"tcp://h:1/amps//", "empty message type"},
		{"tcp://h:1/amps/json?frob=1", "unknown option"},
		{"tcp://h:1/amps/json?tcp_nodelay=maybe", "want true or false"},
		{"tcp://h:1/amps/json?tcp_rcvbuf=-1", "non-negative"},
		{"tcp://h:1/amps/json?http_preflight=true", "not supported"},
		{"tcp://h:1/amps/json?compression=lz4", "only zlib"},
		{"ws://h:1/amps/json?compression=zlib", "tcp and tcps only"},
		{"tcp://h:1/amps/json?bind=nowhere", "bind"},
		{"tcp://@h:1/amps", "empty user"},
		{"tcp://user:secret@h:x/amps", "port"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := ParseURI(tt.in)
			var ue *URIError
			if !errors.As(err, &ue) {
				t.Fatalf("err = %v, want *URIError", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %q, want it to mention %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Fatalf("error leaks the password: %q", err)
			}
		})
	}
}

func FuzzParseURI(f *testing.F) {
	for _, s := range []string{
		"tcp://localhost:9007/amps/json", "tcps://u:p@h:1/amps", "tcp://[::1]:2/json?tcp_nodelay=1",
		"tcp://h:1/amps/json?bind=1.2.3.4:5", "x", "tcp://u@:1", "tcp://h:1/fix",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseURI(s)
		if err != nil {
			var ue *URIError
			if !errors.As(err, &ue) {
				t.Fatalf("error %v is not a *URIError", err)
			}
			return
		}
		if u.Port < 1 || u.Port > 65535 || u.Host == "" || u.Protocol != "amps" {
			t.Fatalf("accepted invalid %q: %+v", s, u)
		}
		// The rendered form (without credentials and options) parses back
		// to the same endpoint.
		v, err := ParseURI(u.String())
		if err != nil {
			t.Fatalf("String() %q of %q does not parse: %v", u.String(), s, err)
		}
		if v.User != u.User || (v.Host != u.Host || v.Port != u.Port || v.MessageType != u.MessageType || v.Transport != u.Transport) {
			t.Fatalf("round trip of %q: %+v != %+v", s, v, u)
		}
	})
}
