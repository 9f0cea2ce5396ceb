package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ampsflume/flume"
	"ampsflume/flume/config"
)

func init() {
	flume.RegisterChannel(flume.Spec{Alias: "clichan", Doc: "A test channel.", Keys: []flume.Key{
		{Name: "capacity", Type: "int", Default: "100", Doc: "How many."},
		{Name: "path", Type: "string", Required: true},
	}}, nil)
	flume.RegisterSource(flume.Spec{Alias: "clisrc", Doc: "A test source."}, nil)
	flume.RegisterSink(flume.Spec{Alias: "clisink", Doc: "A test sink."}, nil)
	flume.RegisterInterceptor(flume.Spec{Alias: "cliint", Doc: "A test interceptor."}, nil)
}

// TestSeedCommandLine: the article's exact command line parses.
func TestSeedCommandLine(t *testing.T) {
	args := strings.Fields("-Xmx512m -c conf/ -f conf/flume-conf.properties -n agent -Dflume.root.logger=INFO,console")
	o, err := parseArgs(args)
	if err != nil {
		t.Fatal(err)
	}
	if o.name != "agent" || o.confDir != "conf/" || len(o.files) != 1 || o.files[0] != "conf/flume-conf.properties" ||
		o.props["flume.root.logger"] != "INFO,console" || len(o.ignored) != 1 || o.ignored[0] != "-Xmx512m" || o.noReload {
		t.Fatalf("%+v", o)
	}
	o, err = parseArgs([]string{"--name=a1", "--conf-file", "x", "--conf-file=y", "-D", "k=v", "--no-reload-conf", "-i", "5"})
	if err != nil {
		t.Fatal(err)
	}
	if o.name != "a1" || strings.Join(o.files, ",") != "x,y" || o.props["k"] != "v" || !o.noReload || o.poll != 5*time.Second {
		t.Fatalf("%+v", o)
	}
	for _, bad := range [][]string{{"-n"}, {"--bogus"}, {"-i", "0"}} {
		if _, err := parseArgs(bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestRootLoggerLevel(t *testing.T) {
	for v, debug := range map[string]bool{"DEBUG,console": true, "INFO,console": false, "": false} {
		l := newLogger(map[string]string{"flume.root.logger": v}, &bytes.Buffer{})
		if got := l.Enabled(context.Background(), -4); got != debug {
			t.Errorf("%q: debug enabled %v", v, got)
		}
	}
	l := newLogger(map[string]string{"flume.root.logger": "WARN,LOGFILE"}, &bytes.Buffer{})
	if l.Enabled(context.Background(), 0) {
		t.Error("WARN level logs INFO")
	}
}

func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestHelpAndVersion(t *testing.T) {
	code, out, _ := run(t, "help")
	if code != 0 || !strings.Contains(out, "clichan") || !strings.Contains(out, "failover") {
		t.Fatalf("%d %s", code, out)
	}
	code, out, _ = run(t, "help", "CLICHAN")
	if code != 0 || !strings.Contains(out, "channel clichan") || !strings.Contains(out, "capacity") || !strings.Contains(out, "(required)") {
		t.Fatalf("%d %s", code, out)
	}
	if code, _, errOut := run(t, "help", "nosuch"); code == 0 || !strings.Contains(errOut, "nosuch") {
		t.Fatalf("%d %s", code, errOut)
	}
	if code, _, errOut := run(t, "help", "clichn"); code == 0 || !strings.Contains(errOut, `did you mean "clichan"`) {
		t.Fatalf("%d %s", code, errOut)
	}
	// Built-in selectors, processors and serializers have specs too.
	for typ, want := range map[string][]string{
		"multiplexing": {"channel selector multiplexing (org.apache.flume.channel.MultiplexingChannelSelector)", "under <agent>.sources.<source>.selector.", "mapping.*", "flume.selector.header"},
		"org.apache.flume.sink.LoadBalancingSinkProcessor": {"sink processor load_balance", "selector.maxTimeOut", "30000"},
		"failover":   {"sink processor failover", "priority.*", "maxpenalty"},
		"avro_event": {"serializer avro_event", "syncIntervalBytes"},
	} {
		code, out, _ := run(t, "help", typ)
		for _, w := range want {
			if code != 0 || !strings.Contains(out, w) {
				t.Errorf("help %s: missing %q in:\n%s", typ, w, out)
			}
		}
	}
	if code, out, _ := run(t, "version"); code != 0 || !strings.Contains(out, "Flume "+Version) {
		t.Fatalf("%d %s", code, out)
	}
	if code, _, _ := run(t, "frobnicate"); code != 2 {
		t.Fatalf("unknown command exit %d", code)
	}
}

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.properties")
	text := "a.channels = c1 c2\na.sinks = k1\na.channels.c1.type = clichan\na.channels.c1.path = /x\na.channels.c1.capasity = 5\na.sinks.k1.type = nosuchsink\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "validate", "-f", path, "-n", "a")
	if code == 0 {
		t.Fatal("broken config validated")
	}
	for _, want := range []string{path + ":1: channel \"c2\"", path + ":5: channel \"c1\": key \"capasity\"", `did you mean "capacity"`, path + ":6: sink \"k1\": key \"type\"", "k1\": key \"channel\""} {
		if !strings.Contains(errOut, want) {
			t.Errorf("missing %q in:\n%s", want, errOut)
		}
	}
	if !strings.Contains(out, "error(s)") || !strings.Contains(out, "c1 (clichan) -> nothing reads it") {
		t.Fatalf("summary: %s", out)
	}
	if code, _, errOut := run(t, "agent", "-f", path, "-n", "a"); code == 0 || !strings.Contains(errOut, "nothing started") {
		t.Fatalf("agent started on a broken config: %d %s", code, errOut)
	}
	if code, _, errOut := run(t, "agent", "-f", path); code == 0 || !strings.Contains(errOut, "-n NAME") {
		t.Fatalf("%d %s", code, errOut)
	}
}

// TestTopology: validate draws sources, selectors, channels, processors and
// sinks in the order events travel.
func TestTopology(t *testing.T) {
	const head = "a.channels = c1 c2 c3\na.sinks = k1 k2 k3\na.channels.c1.type = clichan\na.channels.c1.path = x\n" +
		"a.channels.c2.type = clichan\na.channels.c2.path = x\na.channels.c3.type = clichan\na.channels.c3.path = x\n" +
		"a.sinks.k1.type = clisink\na.sinks.k1.channel = c1\na.sinks.k2.type = clisink\na.sinks.k2.channel = c2\na.sinks.k3.type = clisink\na.sinks.k3.channel = c2\n"
	tests := []struct {
		name string
		text string
		want []string
	}{
		{"replicating with interceptors", head + "a.sources = r\na.sources.r.type = clisrc\na.sources.r.channels = c1 c2\n" +
			"a.sources.r.selector.optional = c2\na.sources.r.interceptors = i j\na.sources.r.interceptors.i.type = cliint\na.sources.r.interceptors.j.type = cliint\n",
			[]string{
				"  sources:\n    r (clisrc)\n      interceptors: i (cliint) -> j (cliint)\n      -> replicating selector -> c1 c2 (optional: c2)\n",
				"  channels:\n    c1 (clichan) -> sink k1\n    c2 (clichan) -> sink k2, sink k3\n    c3 (clichan) -> nothing reads it\n",
				"  sinks:\n    k1 (clisink) <- c1\n",
			}},
		{"multiplexing and failover", head + "a.sources = r\na.sources.r.type = clisrc\na.sources.r.channels = c1 c2 c3\n" +
			"a.sources.r.selector.type = multiplexing\na.sources.r.selector.header = region\na.sources.r.selector.mapping.US = c1\n" +
			"a.sources.r.selector.optional.EU = c3\n" +
			"a.sinkgroups = g\na.sinkgroups.g.sinks = k2 k3\na.sinkgroups.g.processor.type = failover\n" +
			"a.sinkgroups.g.processor.priority.k2 = 1\na.sinkgroups.g.processor.priority.k3 = 7\n",
			[]string{
				"      -> multiplexing selector on header \"region\":\n           \"EU\" -> (optional: c3)\n           \"US\" -> c1\n           otherwise -> dropped (no selector.default)\n",
				"    c2 (clichan) -> sink group g\n",
				"  sink processors:\n    sink group g: failover, in order k3 (priority 7), k2 (priority 1); maxpenalty 30s\n",
				"    k2 (clisink) <- c2, in sink group g\n",
			}},
		{"load balancing both ways", head + "a.sources = r\na.sources.r.type = clisrc\na.sources.r.channels = c1 c3\n" +
			"a.sources.r.selector.type = load_balancing\na.sources.r.selector.policy = random\n" +
			"a.sinkgroups = g\na.sinkgroups.g.sinks = k2 k3\na.sinkgroups.g.processor.type = load_balance\na.sinkgroups.g.processor.backoff = true\n",
			[]string{
				"      -> load_balancing selector (random), one of: c1 c3\n",
				"    sink group g: load_balance (round_robin, backoff up to 30s) over k2 k3\n",
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := config.Parse("t.properties", []byte(tc.text))
			if err != nil {
				t.Fatal(err)
			}
			cfg, probs := p.Agent("a", config.Options{})
			if probs.HasErrors() {
				t.Fatal(probs.Err())
			}
			var b bytes.Buffer
			printTopology(&b, cfg)
			for _, w := range tc.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("missing %q in:\n%s", w, b.String())
				}
			}
		})
	}
}
