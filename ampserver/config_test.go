package ampserver

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseExampleConfig(t *testing.T) {
	cfg, err := LoadConfig("../examples/amps-orders/amps-config.xml")
	noErr(t, err)
	require(t, cfg.Name == "AMPS-Flume-Example" && cfg.Admin.InetAddr == "localhost:8085", "%+v", cfg)
	want := []TransportConfig{
		{Name: "json-tcp", Type: "tcp", InetAddr: ":9007", Protocol: "amps", MessageType: "json", ReuseAddr: true},
		{Name: "any-websocket", Type: "tcp", InetAddr: ":9008", Protocol: "websocket"},
	}
	require(t, reflect.DeepEqual(cfg.Transports, want), "transports %+v", cfg.Transports)
	require(t, reflect.DeepEqual(cfg.SOW, []SOWTopicConfig{{Name: "Orders", MessageType: "json", Keys: []string{"/order_key"}, FileName: "./sow/%n-json.sow", Durability: "persistent"}}), "sow %+v", cfg.SOW)
	tl := cfg.TransactionLog
	require(t, tl != nil && tl.JournalDirectory == "./journal" && tl.MinJournalSize == 10<<20 && tl.FlushInterval == 100*time.Millisecond &&
		reflect.DeepEqual(tl.Topics, []TopicRef{{Name: "Orders", MessageType: "json"}}), "txlog %+v", tl)
	require(t, len(cfg.Warnings) == 0, "warnings %v", cfg.Warnings)
	require(t, sowFileName(cfg.SOW[0].FileName, "Orders") == "./sow/Orders-json.sow", "")
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name, xml, want string
	}{
		{"not xml", `<AMPSConfig><Name>x</Name`, "test.xml:1"},
		{"root", `<Config/>`, "root element must be AMPSConfig"},
		{"no name", "<AMPSConfig>\n</AMPSConfig>", "Name is required"},
		{"transport type", "<AMPSConfig><Name>x</Name>\n<Transports>\n<Transport><Name>t</Name><Type>udp</Type><InetAddr>1</InetAddr></Transport></Transports></AMPSConfig>", "test.xml:3: <Transport>: transport \"t\": Type \"udp\""},
		{"protocol", "<AMPSConfig><Name>x</Name><Transports><Transport><Name>t</Name><Protocol>fix</Protocol><InetAddr>1</InetAddr></Transport></Transports></AMPSConfig>", "Protocol \"fix\""},
		{"port", "<AMPSConfig><Name>x</Name><Transports><Transport><Name>t</Name><InetAddr>99999</InetAddr></Transport></Transports></AMPSConfig>", "bad port"},
		{"no addr", "<AMPSConfig><Name>x</Name><Transports><Transport><Name>t</Name></Transport></Transports></AMPSConfig>", "needs an InetAddr"},
		{"tcps", "<AMPSConfig><Name>x</Name><Transports><Transport><Name>t</Name><Type>tcps</Type><InetAddr>1</InetAddr></Transport></Transports></AMPSConfig>", "Certificate and PrivateKey"},
		{"key", "<AMPSConfig><Name>x</Name><SOW>\n\n<Topic><Name>O</Name>\n<Key>order_key</Key></Topic></SOW></AMPSConfig>", "test.xml:4: <Key>: Key \"order_key\" must be a path"},
		{"dup sow", "<AMPSConfig><Name>x</Name><SOW><Topic><Name>O</Name></Topic><Topic><Name>O</Name></Topic></SOW></AMPSConfig>", "defined twice"},
		{"durability", "<AMPSConfig><Name>x</Name><SOW><Topic><Name>O</Name><Durability>persistent</Durability></Topic></SOW></AMPSConfig>", "needs a FileName"},
		{"size", "<AMPSConfig><Name>x</Name><TransactionLog><JournalDirectory>j</JournalDirectory><MinJournalSize>lots</MinJournalSize></TransactionLog></AMPSConfig>", "<MinJournalSize>: bad size"},
		{"flush", "<AMPSConfig><Name>x</Name><TransactionLog><JournalDirectory>j</JournalDirectory><FlushInterval>soon</FlushInterval></TransactionLog></AMPSConfig>", "<FlushInterval>"},
		{"journal dir", "<AMPSConfig><Name>x</Name><TransactionLog></TransactionLog></AMPSConfig>", "JournalDirectory"},
		{"auth file", "<AMPSConfig><Name>x</Name><Authentication><PasswordFile>/nonexistent/pw</PasswordFile></Authentication></AMPSConfig>", "password file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig("test.xml", []byte(tt.xml))
			var ce *ConfigError
			require(t, errors.As(err, &ce), "got %v, want *ConfigError", err)
			require(t, strings.Contains(err.Error(), tt.want), "error %q does not contain %q", err, tt.want)
		})
	}
}

func TestConfigWarningsAndAuth(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "users")
	noErr(t, os.WriteFile(pw, []byte("# users\nbob:secret\n\nalice:a:b\n"), 0o600))
	cfg, err := ParseConfig("c.xml", []byte(`<AMPSConfig><Name>x</Name>
<Frobnicate/>
<Authentication><PasswordFile>`+pw+`</PasswordFile></Authentication>
<Transports><Transport><Name>t</Name><InetAddr>127.0.0.1:0</InetAddr><Colour>red</Colour></Transport></Transports>
</AMPSConfig>`))
	noErr(t, err)
	require(t, len(cfg.Warnings) == 2 && strings.Contains(cfg.Warnings[0], "c.xml:2: unknown element <Frobnicate>") && strings.Contains(cfg.Warnings[1], "c.xml:4"), "warnings %v", cfg.Warnings)
	require(t, reflect.DeepEqual(cfg.Authentication.Users, map[string]string{"bob": "secret", "alice": "a:b"}), "users %v", cfg.Authentication.Users)
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"10MB": 10 << 20, "512kb": 512 << 10, "1G": 1 << 30, "100": 100, "7B": 7} {
		got, err := parseSize(in)
		require(t, err == nil && got == want, "parseSize(%q) = %d, %v", in, got, err)
	}
	for _, in := range []string{"", "MB", "-1KB", "1.5MB", "99999999999TB"} {
		_, err := parseSize(in)
		require(t, err != nil, "parseSize(%q) succeeded", in)
	}
}

func FuzzParseConfig(f *testing.F) {
	data, err := os.ReadFile("../examples/amps-orders/amps-config.xml")
	if err == nil {
		f.Add(data)
	}
	f.Add([]byte(`<AMPSConfig><Name>x</Name><SOW><Topic><Name>O</Name><Key>/a</Key></Topic></SOW></AMPSConfig>`))
	f.Add([]byte(`<AMPSConfig><Transports><Transport><InetAddr>1:2:3</InetAddr></Transport></Transports></AMPSConfig>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg, err := ParseConfig("fuzz.xml", b)
		if err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if cfg.Name == "" {
			t.Fatal("accepted a config without a Name")
		}
		for _, tc := range cfg.Transports {
			if tc.Name == "" || tc.InetAddr == "" {
				t.Fatalf("accepted transport %+v", tc)
			}
		}
	})
}
