package walkthrough

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"go.uber.org/goleak"

	"ampsflume/ampserver"
	"ampsflume/flume/config"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// exampleFS returns the example's files, with replacements applied.
func exampleFS(t *testing.T, replace map[string][]byte) fstest.MapFS {
	t.Helper()
	fsys := fstest.MapFS{}
	for _, name := range []string{ServerConfigFile, AgentConfigFile, MessagesFile, ExpectedFile} {
		b, err := os.ReadFile(filepath.Join("..", name))
		if err != nil {
			t.Fatal(err)
		}
		if r, ok := replace[name]; ok {
			b = r
		}
		fsys[name] = &fstest.MapFile{Data: b}
	}
	return fsys
}

func TestPointAgent(t *testing.T) {
	tests := []struct {
		name       string
		options    string
		conflation time.Duration
		want       string
	}{
		{"kept", "grouping=[/symbol],conflation=1s", 0, "grouping=[/symbol],conflation=1s"},
		{"replaced", "projection=[/a],grouping=[/symbol],conflation=1s", 100 * time.Millisecond, "projection=[/a],grouping=[/symbol],conflation=100ms"},
		{"spaces", "conflation = 2s, grouping=[/symbol]", 50 * time.Millisecond, "conflation=50ms, grouping=[/symbol]"},
		{"added", "grouping=[/symbol]", time.Second, "grouping=[/symbol],conflation=1000ms"},
		{"only", "", time.Second, "conflation=1000ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conf := "a.sources = s\na.channels = c\na.sinks = k\n" +
				"a.sources.s.type = amps\na.sources.s.channels = c\n" +
				"a.sources.s.uri1 = tcp://127.0.0.1:9007/amps/json\na.sources.s.uri2 = tcp://user@10.0.0.1:9007/amps/json?x=1\n" +
				"a.sources.s.topic = Orders\na.sources.s.maxBatch = 100\na.sources.s.options = " + tt.options + "\n" +
				"a.channels.c.type = memory\n" +
				"a.sinks.k.type = file_roll\na.sinks.k.channel = c\na.sinks.k.sink.directory = /tmp/elsewhere\n"
			p, err := config.Parse("t.properties", []byte(conf))
			if err != nil {
				t.Fatal(err)
			}
			cfg, probs := p.Agent("a", config.Options{})
			if probs.HasErrors() {
				t.Fatal(probs.Err())
			}
			if err := pointAgent(cfg, "127.0.0.1:4242", "/out", tt.conflation); err != nil {
				t.Fatal(err)
			}
			src, sink := cfg.Sources[0], cfg.Sinks[0]
			for k, want := range map[string]string{
				"uri1":    "tcp://127.0.0.1:4242/amps/json",
				"uri2":    "tcp://user@127.0.0.1:4242/amps/json?x=1",
				"options": tt.want,
			} {
				if got := src.Props[k].Value; got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			if got := src.Props["uri1"].Loc.Line; got != 6 {
				t.Errorf("uri1 keeps line %d, want 6", got)
			}
			if got := sink.Props["sink.directory"].Value; got != "/out" {
				t.Errorf("sink.directory = %q", got)
			}
		})
	}
}

func TestPointAgentNeedsSourceAndSink(t *testing.T) {
	p, err := config.Parse("t.properties", []byte("a.sources = s\na.channels = c\na.sources.s.type = seq\na.sources.s.channels = c\na.channels.c.type = memory\n"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := p.Agent("a", config.Options{})
	if err := pointAgent(cfg, "x:1", "/out", 0); err == nil || !strings.Contains(err.Error(), "amps source and a file_roll sink") {
		t.Fatalf("err = %v", err)
	}
}

func TestRebaseAndPorts(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", ServerConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ampserver.ParseConfig(ServerConfigFile, b)
	if err != nil {
		t.Fatal(err)
	}
	rebase(cfg, "/w")
	loopbackPorts(cfg)
	if got := cfg.SOW[0].FileName; got != "/w/sow/%n-json.sow" {
		t.Errorf("SOW file = %q", got)
	}
	if got := cfg.TransactionLog.JournalDirectory; got != "/w/journal" {
		t.Errorf("journal = %q", got)
	}
	for _, tc := range cfg.Transports {
		if tc.InetAddr != "127.0.0.1:0" {
			t.Errorf("transport %s on %q", tc.Name, tc.InetAddr)
		}
	}
	if cfg.Admin.InetAddr != "127.0.0.1:0" {
		t.Errorf("admin on %q", cfg.Admin.InetAddr)
	}
}

func TestDiff(t *testing.T) {
	tests := []struct {
		name, got, want, diff string
	}{
		{"equal", "a\nb\n", "a\nb\n", ""},
		{"changed", "a\nx\n", "a\nb\n", "line 2:\n  got  x\n  want b\n"},
		{"missing", "a\n", "a\nb\n", "line 2: missing, want b\n"},
		{"extra", "a\nb\nc\n", "a\nb\n", "line 3: extra c\n"},
		{"newline", "a\nb", "a\nb\n", "the lines are equal but the bytes differ (line endings or a missing final newline)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Result{Output: []byte(tt.got), Expected: []byte(tt.want), Match: tt.got == tt.want}
			if d := r.Diff(); d != tt.diff {
				t.Errorf("Diff() = %q, want %q", d, tt.diff)
			}
		})
	}
}

func TestRunRefusesBadInput(t *testing.T) {
	full := exampleFS(t, nil)
	missing := exampleFS(t, nil)
	delete(missing, MessagesFile)
	used := t.TempDir()
	if err := os.WriteFile(filepath.Join(used, "old"), []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"no files", Options{}, "Options.Files is required"},
		{"missing file", Options{Files: missing, OutDir: t.TempDir()}, MessagesFile},
		{"negative rate", Options{Files: full, Rate: -1}, "must be positive"},
		{"tiny conflation", Options{Files: full, Conflation: time.Microsecond}, "at least 1ms"},
		{"used output", Options{Files: full, OutDir: used}, "already holds output"},
		{"bad agent", Options{Files: exampleFS(t, map[string][]byte{AgentConfigFile: []byte("agent.sources = amps\n")}), OutDir: t.TempDir()}, AgentConfigFile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Run(context.Background(), tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

// TestRunReportsMismatch runs a fast walkthrough against a doctored
// expected output: Run must complete, say the output differs and where.
// (The faithful run at the article's pace is in test/walkthrough.)
func TestRunReportsMismatch(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", ExpectedFile))
	if err != nil {
		t.Fatal(err)
	}
	// The last line is changed, so the diff names line 10 whatever the
	// timing did to the earlier ones.
	doctored := []byte(strings.Replace(string(b), `"avg_total":61682.5}`, `"avg_total":61682.6}`, 1))
	var progress strings.Builder
	res, err := Run(context.Background(), Options{
		Files:      exampleFS(t, map[string][]byte{ExpectedFile: doctored}),
		OutDir:     t.TempDir(),
		Rate:       40,
		Conflation: 25 * time.Millisecond,
		Timeout:    5 * time.Second,
		Progress:   &progress,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Match {
		t.Fatalf("a doctored expectation matched:\n%s", progress.String())
	}
	if !strings.Contains(res.Diff(), "line 10:") || !strings.Contains(res.Diff(), `"avg_total":61682.6}`) {
		t.Errorf("diff does not show line 10:\n%s", res.Diff())
	}
	if !strings.Contains(progress.String(), "output differs from "+ExpectedFile) {
		t.Errorf("progress does not report the difference:\n%s", progress.String())
	}
	if res.Published != 15 || res.ServerAddr == "" || res.AdminAddr == "" {
		t.Errorf("result = %+v", res)
	}
}
