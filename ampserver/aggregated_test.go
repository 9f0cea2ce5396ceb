package ampserver

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ampsflume/amps/wire"
)

func exampleFile(t *testing.T, name string) string {
	t.Helper()
	return filepath.Join("..", "examples", "amps-orders", name)
}

func exampleLines(t *testing.T, name string) []string {
	t.Helper()
	b, err := os.ReadFile(exampleFile(t, name))
	noErr(t, err)
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// flumeProperty reads a key of the article's flume-conf.properties the way
// java.util.Properties does for the lines it uses: a trailing backslash
// continues the value on the next line, whose leading blanks are dropped.
func flumeProperty(t *testing.T, key string) string {
	t.Helper()
	lines := exampleLines(t, "flume-conf.properties")
	for i := 0; i < len(lines); i++ {
		k, v, ok := strings.Cut(lines[i], "=")
		if !ok || strings.TrimSpace(k) != key {
			continue
		}
		v = strings.TrimLeft(v, " \t")
		for strings.HasSuffix(v, `\`) && i+1 < len(lines) {
			i++
			v = strings.TrimSuffix(v, `\`) + strings.TrimLeft(lines[i], " \t")
		}
		return v
	}
	t.Fatalf("%s not in flume-conf.properties", key)
	return ""
}

// articleServer starts a server from the article's amps-config.xml, on
// ephemeral ports, with its SOW under a temporary directory.
func articleServer(t *testing.T, clk Clock) *Server {
	t.Helper()
	cfg, err := LoadConfig(exampleFile(t, "amps-config.xml"))
	noErr(t, err)
	cfg.Admin.InetAddr = ""
	for i := range cfg.Transports {
		cfg.Transports[i].InetAddr = "127.0.0.1:0"
	}
	dir := t.TempDir()
	for i := range cfg.SOW {
		cfg.SOW[i].FileName = filepath.Join(dir, "%n-json.sow")
	}
	if cfg.TransactionLog != nil {
		cfg.TransactionLog.JournalDirectory = filepath.Join(dir, "journal")
	}
	return startServer(t, cfg, WithClock(clk))
}

// TestArticleExample is the article's example end to end at the protocol
// level: the Flume source's sow_and_subscribe (filter and options exactly as
// in flume-conf.properties) is open while spark publishes the 15 orders of
// messages.json one per second of a fake clock; the publish bodies the
// subscriber receives must be expected-output.jsonl byte for byte.
//
// Each order is published at t = i s and acknowledged before the clock
// moves on; the clock then advances one second, which fires the
// conflation timers due at that instant before the next order arrives.
// Order 2 (MSFT) thus arrives exactly when order 1's held MSFT aggregate
// falls due; it is delivered first and order 2 starts a new interval, so
// both appear (see the conflate package for why this does not depend on
// scheduling).
func TestArticleExample(t *testing.T) {
	clk := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	s := articleServer(t, clk)

	sub := dial(t, s.TCPAddr())
	sub.logon("FlumeClient")
	opts := flumeProperty(t, "agent.sources.amps.options")
	require(t, opts == "projection=[/symbol,avg(/price) as /avg_price,avg(/price*/qty) as /avg_total],grouping=[/symbol],conflation=1s",
		"options as the server receives them: %q", opts)
	sub.send(wire.Header{
		Command: "sow_and_subscribe", CommandID: sub.nextCID(), SubID: "Sub-100", Topic: flumeProperty(t, "agent.sources.amps.topic"),
		Filter: flumeProperty(t, "agent.sources.amps.filter"), Options: opts, AckType: "processed", BatchSize: 10,
	}, "")
	sub.expectAck("processed", "success")
	m := sub.recv()
	require(t, m.h.Command == "group_begin", "want group_begin, got %+v", m.h)
	m = sub.recv()
	require(t, m.h.Command == "group_end", "the SOW starts empty; got %+v", m.h)

	pub := dial(t, s.TCPAddr())
	pub.logon("spark")
	for i, order := range exampleLines(t, "messages.json") {
		if i > 0 {
			clk.Advance(time.Second)
		}
		pub.send(wire.Header{Command: "publish", CommandID: pub.nextCID(), Topic: "Orders", AckType: "processed"}, order)
		pub.expectAck("processed", "success")
	}
	clk.Advance(time.Second)

	want := exampleLines(t, "expected-output.jsonl")
	var got []string
	var prevTS string
	for len(got) < len(want) {
		m := sub.recv()
		// The Flume source forwards only publish messages, body only.
		if m.h.Command != "p" && m.h.Command != "publish" {
			continue
		}
		require(t, m.h.SubID == "Sub-100" && m.h.Topic == "Orders" && m.h.SowKey != "", "delivery header %+v", m.h)
		require(t, m.h.Timestamp >= prevTS, "timestamps go backwards: %q after %q", m.h.Timestamp, prevTS)
		prevTS = m.h.Timestamp
		got = append(got, string(m.payload))
	}
	require(t, strings.Join(got, "\n") == strings.Join(want, "\n"), "got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))

	// Nothing else is held: more time passes and a round trip on the
	// subscriber's connection comes back with no publish before it.
	clk.Advance(10 * time.Second)
	sub.send(wire.Header{Command: "unsubscribe", CommandID: sub.nextCID(), SubID: "Sub-100", AckType: "processed"}, "")
	sub.expectAck("processed", "success")
	require(t, clk.pending() == 0, "%d timers still pending after unsubscribe", clk.pending())
}
