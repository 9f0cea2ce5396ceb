package walkthrough

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"ampsflume/amps"
	"ampsflume/ampserver"
	"ampsflume/flume"
	"ampsflume/flume/agent"
	"ampsflume/flume/config"
	_ "ampsflume/plugins" // the components the example's agent names
)

// The example's files, as Options.Files must name them.
const (
	ServerConfigFile = "amps-config.xml"
	AgentConfigFile  = "flume-conf.properties"
	MessagesFile     = "messages.json"
	ExpectedFile     = "expected-output.jsonl"
)

// AgentName is the agent the article starts (flume-ng agent -n agent).
const AgentName = "agent"

// Topic is the topic the article publishes to (spark publish -topic Orders).
const Topic = "Orders"

// Options configure Run. The zero value of every field but Files is the
// article's setup.
type Options struct {
	// Files holds the example's four files under the names above.
	Files fs.FS
	// OutDir is the file_roll sink's directory (the article's
	// /tmp/amps-flume/). Empty means a fresh temporary directory, which is
	// left in place for inspection. An existing directory must be empty of
	// output files, or the comparison would include them.
	OutDir string
	// WorkDir is the server's working directory, where the relative SOW and
	// journal paths of amps-config.xml land. Empty means a fresh temporary
	// directory removed when Run returns.
	WorkDir string
	// Rate is messages per second (spark publish -rate); 0 means 1.
	Rate float64
	// Conflation replaces the interval of the source's conflation option;
	// 0 keeps the configured one (1s). A faster run changes both, e.g.
	// Rate 10 with Conflation 100ms.
	Conflation time.Duration
	// PortsFromConfig keeps the listeners of amps-config.xml (9007, 9008,
	// 8085) instead of OS-chosen loopback ports.
	PortsFromConfig bool
	// Timeout bounds the wait for the expected lines once publishing has
	// started; 0 means the publishing time plus 30 s.
	Timeout time.Duration
	// Progress receives a human-readable account of the run; nil discards it.
	Progress io.Writer
	// Logger receives the server's and the agent's logs; nil discards them.
	Logger *slog.Logger
}

// Line is one output line, with when it landed relative to the first publish.
type Line struct {
	At   time.Duration
	Text string
}

// Result is what a run produced.
type Result struct {
	ServerAddr string // the amps transport the agent and publisher used
	AdminAddr  string // the admin interface, empty when not configured
	OutDir     string
	Published  int
	Lines      []Line // complete lines in the order they were seen
	Output     []byte // the sink's files, concatenated in name order, after the agent stopped
	Expected   []byte
	Match      bool // Output equals Expected byte for byte
	TimedOut   bool // the expected number of lines did not land in time
}

// Diff describes how Output differs from Expected, line by line; empty when
// they match.
func (r *Result) Diff() string {
	if r.Match {
		return ""
	}
	got, want := splitLines(r.Output), splitLines(r.Expected)
	var b strings.Builder
	for i := 0; i < max(len(got), len(want)); i++ {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		switch {
		case i >= len(got):
			fmt.Fprintf(&b, "line %d: missing, want %s\n", i+1, w)
		case i >= len(want):
			fmt.Fprintf(&b, "line %d: extra %s\n", i+1, g)
		case g != w:
			fmt.Fprintf(&b, "line %d:\n  got  %s\n  want %s\n", i+1, g, w)
		}
	}
	if b.Len() == 0 {
		b.WriteString("the lines are equal but the bytes differ (line endings or a missing final newline)\n")
	}
	return b.String()
}

func splitLines(b []byte) []string {
	s := strings.TrimSuffix(string(b), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

type files struct {
	serverConfig, agentConfig, messages, expected []byte
}

func readFiles(fsys fs.FS) (*files, error) {
	if fsys == nil {
		return nil, errors.New("walkthrough: Options.Files is required")
	}
	var f files
	for _, x := range []struct {
		name string
		dst  *[]byte
	}{
		{ServerConfigFile, &f.serverConfig},
		{AgentConfigFile, &f.agentConfig},
		{MessagesFile, &f.messages},
		{ExpectedFile, &f.expected},
	} {
		b, err := fs.ReadFile(fsys, x.name)
		if err != nil {
			return nil, fmt.Errorf("walkthrough: example file: %w", err)
		}
		*x.dst = b
	}
	return &f, nil
}

// Run runs the walkthrough: server, agent, publisher, comparison. An error
// means the run could not be carried out (bad files, a port in use, the agent
// never subscribing, ctx cancelled); an output that differs from the
// expected one is not an error but Result.Match false.
func Run(ctx context.Context, o Options) (*Result, error) {
	fl, err := readFiles(o.Files)
	if err != nil {
		return nil, err
	}
	rate := o.Rate
	switch {
	case rate == 0:
		rate = 1
	case rate < 0:
		return nil, fmt.Errorf("walkthrough: rate %v: must be positive", rate)
	}
	if o.Conflation != 0 && o.Conflation < time.Millisecond {
		return nil, fmt.Errorf("walkthrough: conflation %v: must be at least 1ms", o.Conflation)
	}
	progress := o.Progress
	if progress == nil {
		progress = io.Discard
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	messages := splitLines(fl.messages)
	wantLines := len(splitLines(fl.expected))

	workDir := o.WorkDir
	if workDir == "" {
		if workDir, err = os.MkdirTemp("", "amps-orders-work-"); err != nil {
			return nil, fmt.Errorf("walkthrough: %w", err)
		}
		defer os.RemoveAll(workDir)
	} else if err := os.MkdirAll(workDir, 0o755); err != nil {
		return nil, fmt.Errorf("walkthrough: work directory: %w", err)
	}
	outDir := o.OutDir
	if outDir == "" {
		if outDir, err = os.MkdirTemp("", "amps-flume-"); err != nil {
			return nil, fmt.Errorf("walkthrough: %w", err)
		}
	} else if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("walkthrough: output directory: %w", err)
	}
	if prior, err := readOutput(outDir); err != nil {
		return nil, err
	} else if len(prior) > 0 {
		return nil, fmt.Errorf("walkthrough: output directory %s already holds output; use an empty one", outDir)
	}
	res := &Result{OutDir: outDir, Expected: fl.expected}

	// The server.
	scfg, err := ampserver.ParseConfig(ServerConfigFile, fl.serverConfig)
	if err != nil {
		return nil, err
	}
	rebase(scfg, workDir)
	if !o.PortsFromConfig {
		loopbackPorts(scfg)
	}
	srv, err := ampserver.New(scfg, ampserver.WithLogger(logger.With("component", "ampserver")))
	if err != nil {
		return nil, fmt.Errorf("walkthrough: server: %w", err)
	}
	if err := srv.Start(ctx); err != nil {
		return nil, fmt.Errorf("walkthrough: server: %w", err)
	}
	serverStopped := false
	stopServer := func() error {
		if serverStopped {
			return nil
		}
		serverStopped = true
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	}
	defer stopServer()
	addr := srv.TCPAddr()
	if addr == nil {
		return nil, fmt.Errorf("walkthrough: %s has no amps-protocol transport", ServerConfigFile)
	}
	res.ServerAddr = addr.String()
	if a := srv.AdminAddr(); a != nil {
		res.AdminAddr = a.String()
	}
	fmt.Fprintf(progress, "ampserver %q: amps on %s", scfg.Name, res.ServerAddr)
	if res.AdminAddr != "" {
		fmt.Fprintf(progress, ", admin on http://%s/amps", res.AdminAddr)
	}
	fmt.Fprintf(progress, " (working directory %s)\n", workDir)

	// The agent, from the real configuration loader.
	props, err := config.Parse(AgentConfigFile, fl.agentConfig)
	if err != nil {
		return nil, err
	}
	acfg, probs := props.Agent(AgentName, config.Options{})
	if err := pointAgent(acfg, res.ServerAddr, outDir, o.Conflation); err != nil {
		return nil, err
	}
	aopts := agent.Options{Logger: logger.With("component", "flume")}
	probs = append(probs, agent.Check(acfg, aopts)...)
	if probs.HasErrors() {
		return nil, fmt.Errorf("walkthrough: %s: %w", AgentConfigFile, probs.Err())
	}
	ag := agent.New(aopts)
	if err := ag.Start(ctx, acfg); err != nil {
		return nil, fmt.Errorf("walkthrough: agent: %w", err)
	}
	agentStopped := false
	stopAgent := func() {
		if !agentStopped {
			agentStopped = true
			ag.Stop()
		}
	}
	defer stopAgent()
	fmt.Fprintf(progress, "flume agent %q: %s\n", AgentName, strings.Join(agent.Summary(acfg), "; "))
	fmt.Fprintf(progress, "output directory: %s\n", outDir)
	if err := waitSubscribed(ctx, srv, 30*time.Second); err != nil {
		return nil, err
	}

	// The publisher, and the tail of the output.
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = time.Duration(float64(len(messages))/rate*float64(time.Second)) + 30*time.Second
	}
	fmt.Fprintf(progress, "publishing %d messages of %s to %s at %g/s; expecting %d lines\n", len(messages), MessagesFile, Topic, rate, wantLines)
	pub := amps.NewClient("walkthrough-publisher")
	defer pub.Close()
	if err := logon(ctx, pub, "tcp://"+res.ServerAddr+"/amps/json"); err != nil {
		return nil, fmt.Errorf("walkthrough: publisher: %w", err)
	}
	pctx, cancelPublish := context.WithCancel(ctx)
	defer cancelPublish()
	// As spark does, the pace starts once the publisher is logged on.
	start := time.Now()
	published := make(chan publishResult, 1)
	go func() {
		n, err := publish(pctx, pub, messages, rate, start)
		published <- publishResult{n, err}
	}()
	tctx, cancelTail := context.WithCancel(ctx)
	defer cancelTail()
	lines := make(chan string)
	tailErr := make(chan error, 1)
	go func() { tailErr <- tail(tctx, outDir, lines) }()

	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	publishing := true
	var runErr error
loop:
	for publishing || len(res.Lines) < wantLines {
		select {
		case l := <-lines:
			at := time.Since(start)
			res.Lines = append(res.Lines, Line{At: at, Text: l})
			fmt.Fprintf(progress, "%7.2fs  %s\n", at.Seconds(), l)
		case p := <-published:
			publishing = false
			res.Published = p.n
			if p.err != nil {
				runErr = fmt.Errorf("walkthrough: publishing: %w", p.err)
				break loop
			}
		case err := <-tailErr:
			runErr = err
			break loop
		case <-deadline.C:
			res.TimedOut = true
			break loop
		case <-ctx.Done():
			runErr = ctx.Err()
			break loop
		}
	}
	cancelPublish()
	cancelTail()
	if publishing {
		p := <-published
		res.Published = p.n
	}

	// Stop the agent before reading: its sink finishes the batch in hand.
	stopAgent()
	out, err := readOutput(outDir)
	if err != nil && runErr == nil {
		runErr = err
	}
	res.Output = out
	res.Match = bytes.Equal(out, fl.expected)
	if err := stopServer(); err != nil && runErr == nil {
		runErr = fmt.Errorf("walkthrough: server shutdown: %w", err)
	}
	if runErr != nil {
		return res, runErr
	}
	switch {
	case res.Match:
		fmt.Fprintf(progress, "output matches %s byte for byte (%d lines)\n", ExpectedFile, wantLines)
	case res.TimedOut:
		fmt.Fprintf(progress, "timed out after %v with %d of %d lines; output differs from %s:\n%s", timeout, len(res.Lines), wantLines, ExpectedFile, res.Diff())
	default:
		fmt.Fprintf(progress, "output differs from %s:\n%s", ExpectedFile, res.Diff())
	}
	return res, nil
}

type publishResult struct {
	n   int
	err error
}

// rebase resolves the configuration's relative file paths against dir, which
// is what running the server with dir as its working directory does.
func rebase(cfg *ampserver.Config, dir string) {
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	for i := range cfg.SOW {
		cfg.SOW[i].FileName = abs(cfg.SOW[i].FileName)
	}
	if cfg.TransactionLog != nil {
		cfg.TransactionLog.JournalDirectory = abs(cfg.TransactionLog.JournalDirectory)
	}
}

// loopbackPorts moves every listener to an OS-chosen loopback port.
func loopbackPorts(cfg *ampserver.Config) {
	for i := range cfg.Transports {
		cfg.Transports[i].InetAddr = "127.0.0.1:0"
	}
	if cfg.Admin.InetAddr != "" {
		cfg.Admin.InetAddr = "127.0.0.1:0"
	}
}

var uriKey = regexp.MustCompile(`^uri[0-9]*$`)

var conflationOpt = regexp.MustCompile(`conflation\s*=\s*[^,\]]*`)

// pointAgent aims the AMPS sources' uri keys at addr, the file_roll sinks at
// outDir and, when conflation is set, replaces the sources' conflation
// interval. The properties keep their file:line, so a problem found later
// still points at the line that was rewritten.
func pointAgent(cfg *config.Agent, addr, outDir string, conflation time.Duration) error {
	sources := 0
	for _, c := range cfg.Sources {
		if c.Reg == nil || c.Reg.Spec.Alias != "amps" {
			continue
		}
		sources++
		for k, p := range c.Props {
			if !uriKey.MatchString(k) {
				continue
			}
			u, err := url.Parse(p.Value)
			if err != nil {
				return fmt.Errorf("walkthrough: %s: source %q %s: %w", p.Loc, c.Name, k, err)
			}
			u.Host = addr
			c.Props[k] = flume.Property{Value: u.String(), Loc: p.Loc}
		}
		if conflation > 0 {
			v := fmt.Sprintf("conflation=%dms", conflation.Milliseconds())
			p := c.Props["options"]
			if conflationOpt.MatchString(p.Value) {
				p.Value = conflationOpt.ReplaceAllString(p.Value, v)
			} else if p.Value == "" {
				p.Value = v
			} else {
				p.Value += "," + v
			}
			c.Props["options"] = p
		}
	}
	sinks := 0
	for _, c := range cfg.Sinks {
		if c.Reg == nil || c.Reg.Spec.Alias != "file_roll" {
			continue
		}
		sinks++
		p := c.Props["sink.directory"]
		p.Value = outDir
		c.Props["sink.directory"] = p
	}
	if sources == 0 || sinks == 0 {
		return fmt.Errorf("walkthrough: %s: agent %q needs an amps source and a file_roll sink (found %d and %d)", AgentConfigFile, AgentName, sources, sinks)
	}
	return nil
}

// waitSubscribed polls the server until a client holds a live
// subscription: before that, a publish could reach the SOW without reaching
// the agent live, and the output would depend on the race.
func waitSubscribed(ctx context.Context, srv *ampserver.Server, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		for _, c := range srv.Status().Clients {
			if c.Subscriptions > 0 {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("walkthrough: the agent did not subscribe within %v", limit)
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// publish sends messages as spark publish does: message n is due at
// start + n/rate, so a late message does not delay the following ones.
func publish(ctx context.Context, c *amps.Client, messages []string, rate float64, start time.Time) (int, error) {
	t := time.NewTimer(0)
	defer t.Stop()
	<-t.C
	for n, m := range messages {
		due := start.Add(time.Duration(float64(n) / rate * float64(time.Second)))
		if d := time.Until(due); d > 0 {
			t.Reset(d)
			select {
			case <-t.C:
			case <-ctx.Done():
				return n, ctx.Err()
			}
		}
		if err := c.Publish(Topic, []byte(m)); err != nil {
			return n, err
		}
	}
	return len(messages), c.Flush(ctx)
}

func logon(ctx context.Context, c *amps.Client, uri string) error {
	if err := c.Connect(ctx, uri); err != nil {
		return err
	}
	_, err := c.Logon(ctx)
	return err
}

// readOutput concatenates the regular files of dir in name order: file_roll
// names its files so that this is the order they were written in.
func readOutput(dir string) ([]byte, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("walkthrough: output directory: %w", err)
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		if e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	var out []byte
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			return nil, fmt.Errorf("walkthrough: output: %w", err)
		}
		out = append(out, b...)
	}
	return out, nil
}

// tail sends each complete line of dir's files as it appears, until ctx ends.
func tail(ctx context.Context, dir string, lines chan<- string) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	sent := 0
	for {
		out, err := readOutput(dir)
		if err != nil {
			return err
		}
		all := splitLines(out[:bytes.LastIndexByte(out, '\n')+1])
		for ; sent < len(all); sent++ {
			select {
			case lines <- all[sent]:
			case <-ctx.Done():
				return nil
			}
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return nil
		}
	}
}
