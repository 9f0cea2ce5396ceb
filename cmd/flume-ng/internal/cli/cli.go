package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	stdlog "log"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"ampsflume/flume"
	"ampsflume/flume/agent"
	"ampsflume/flume/config"
	"ampsflume/flume/monitor"
	"ampsflume/internal/docgen"
	"ampsflume/serializer"
)

// Version is the Flume release whose behaviour this agent follows.
const Version = "1.11.0"

const usage = `Usage: flume-ng <command> [options]...

commands:
  agent                     run a Flume agent
  validate                  check a configuration and print every problem
  help [TYPE]               display this help, or the keys of a component type
  version                   show Flume version info
  channel verify|repair     check or repair a stopped file channel (channel --help)
  completion bash|zsh       print a shell completion script

agent and validate options:
  -n,--name <name>          the name of this agent (required)
  -f,--conf-file <file>     a configuration file (repeatable)
  -u,--conf-uri <uri>       a configuration URI: http://, https:// or file://
                            (repeatable); URIs then files merge in order and
                            a later source's key replaces an earlier one's
  --conf-user <user>        user name for HTTP basic authentication to URIs
  --conf-password <pass>    its password (never logged)
  -b,--backup-directory <dir>
                            keep the URIs' last configuration in
                            <dir>/.<name>.properties; used when a URI is
                            unreachable at start
  --conf-provider <class>   accepted only with Flume's default provider
  -a,--auth-provider <class>
                            accepted only with Flume's default (basic) provider
  -c,--conf <dir>           the configuration directory (accepted for compatibility)
  -D<key>=<value>           a property, e.g. -Dflume.monitoring.type=http
                            -Dflume.monitoring.port=41414 -Dflume.root.logger=INFO,console
  --no-reload-conf          do not reload the configuration when it changes
  -i,--poll-interval <s>    seconds between checks of the configuration
                            (default 30 for files, 300 for URIs)
  -X<jvm option>            accepted and ignored (there is no JVM)
  -h,--help                 display this help
`

// Main runs the command line and returns the exit status. SIGINT and
// SIGTERM stop a running agent gracefully.
func Main(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Run(ctx, args, stdout, stderr)
}

// Run is Main with the caller's context: cancelling it stops the agent.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "agent":
		return runAgent(ctx, args[1:], stdout, stderr)
	case "validate":
		return runValidate(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		return runHelp(args[1:], stdout, stderr)
	case "channel":
		return runChannel(args[1:], stdout, stderr)
	case "completion":
		return runCompletion(args[1:], stdout, stderr)
	case "version":
		fmt.Fprintf(stdout, "Flume %s\nGo implementation (ampsflume), %s %s/%s\n", Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return 0
	default:
		fmt.Fprintf(stderr, "flume-ng: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}

type options struct {
	name     string
	files    []string
	confDir  string
	props    map[string]string
	noReload bool
	poll     time.Duration
	// pollSet says -i was given: it then applies to URIs too, which
	// otherwise are polled every 300 s as in Flume.
	pollSet bool

	uris         []string
	confUser     string
	confPassword string
	backupDir    string
	confProvider string
	authProvider string
	ignored      []string
	help         bool
}

func parseArgs(args []string) (*options, error) {
	o := &options{props: map[string]string{}, poll: 30 * time.Second}
	for i := 0; i < len(args); i++ {
		a := args[i]
		value := func() (string, error) {
			if k, v, ok := strings.Cut(a, "="); ok && strings.HasPrefix(k, "--") {
				return v, nil
			}
			if i+1 >= len(args) {
				return "", fmt.Errorf("option %s needs a value", a)
			}
			i++
			return args[i], nil
		}
		name, _, _ := strings.Cut(a, "=")
		var err error
		switch {
		case name == "-n" || name == "--name":
			o.name, err = value()
		case name == "-f" || name == "--conf-file":
			var f string
			f, err = value()
			o.files = append(o.files, f)
		case name == "-u" || name == "--conf-uri":
			var u string
			u, err = value()
			o.uris = append(o.uris, u)
		case name == "--conf-user":
			o.confUser, err = value()
		case name == "--conf-password":
			o.confPassword, err = value()
		case name == "-b" || name == "--backup-directory":
			o.backupDir, err = value()
		case name == "--conf-provider":
			o.confProvider, err = value()
		case name == "-a" || name == "--auth-provider":
			o.authProvider, err = value()
		case name == "-c" || name == "--conf":
			o.confDir, err = value()
		case name == "-i" || name == "--poll-interval":
			var v string
			if v, err = value(); err == nil {
				// Fractions are accepted (Flume takes whole seconds).
				n, perr := strconv.ParseFloat(v, 64)
				if perr != nil || !(n >= 0.001) || n > 1e6 {
					return nil, fmt.Errorf("--poll-interval %q is not a positive number of seconds (at least 0.001)", v)
				}
				o.poll = time.Duration(n * float64(time.Second))
				o.pollSet = true
			}
		case a == "--no-reload-conf":
			o.noReload = true
		case a == "-h" || a == "--help":
			o.help = true
		case strings.HasPrefix(a, "-D") && len(a) > 2:
			k, v, _ := strings.Cut(a[2:], "=")
			o.props[k] = v
		case a == "-D":
			if i+1 >= len(args) {
				return nil, errors.New("option -D needs key=value")
			}
			i++
			k, v, _ := strings.Cut(args[i], "=")
			o.props[k] = v
		case strings.HasPrefix(a, "-X") || strings.HasPrefix(a, "-javaagent") || a == "--dryrun" || a == "-d":
			o.ignored = append(o.ignored, a)
		default:
			return nil, fmt.Errorf("unknown option %q", a)
		}
		if err != nil {
			return nil, err
		}
	}
	return o, nil
}

// newLogger honours -Dflume.root.logger=LEVEL[,appender]; logs go to stderr.
func newLogger(props map[string]string, stderr io.Writer) *slog.Logger {
	level := slog.LevelInfo
	if v, ok := props["flume.root.logger"]; ok {
		lv, _, _ := strings.Cut(v, ",")
		switch strings.ToUpper(strings.TrimSpace(lv)) {
		case "TRACE", "DEBUG", "ALL":
			level = slog.LevelDebug
		case "WARN":
			level = slog.LevelWarn
		case "ERROR", "FATAL", "OFF":
			level = slog.LevelError
		}
	}
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
}

// setDefaultLogger makes l the process-wide default logger for slog and the
// log package, and returns the function that puts the previous ones back
// (Run may be called more than once in a process, as tests do).
func setDefaultLogger(l *slog.Logger) (restore func()) {
	prev, out, flags, prefix := slog.Default(), stdlog.Writer(), stdlog.Flags(), stdlog.Prefix()
	slog.SetDefault(l)
	return func() {
		slog.SetDefault(prev)
		stdlog.SetOutput(out)
		stdlog.SetFlags(flags)
		stdlog.SetPrefix(prefix)
	}
}

// uriPoll is how often URIs are checked: -i, or Flume's 300 s.
func (o *options) uriPoll() time.Duration {
	if o.pollSet {
		return o.poll
	}
	return 300 * time.Second
}

// sourceNames lists the configuration's sources for log lines.
func (o *options) sourceNames(rem *remote) string {
	var names []string
	if rem != nil {
		for _, s := range rem.sources {
			names = append(names, s.name)
		}
	}
	return strings.Join(append(names, o.files...), ",")
}

// checkSources reports a command line without a name or a configuration.
func checkSources(o *options) error {
	if o.name == "" {
		return errors.New("the agent name is required (-n NAME)")
	}
	if len(o.files) == 0 && len(o.uris) == 0 {
		return errors.New("a configuration is required (-f FILE or -u URI)")
	}
	return nil
}

// load reads and fully validates the configuration: the URIs' part (as
// last fetched) then the files, merged in that order as Flume 1.10 does;
// the model's problems and those the factories report.
func load(o *options, rem *remote) (*config.Agent, config.Problems, error) {
	if err := checkSources(o); err != nil {
		return nil, nil, err
	}
	sources := rem.configSources()
	for _, f := range o.files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, nil, fmt.Errorf("reading configuration: %w", err)
		}
		sources = append(sources, config.Source{Name: f, Data: data})
	}
	props, err := config.Merge(sources...)
	if err != nil {
		return nil, nil, err
	}
	cfg, probs := props.Agent(o.name, config.Options{Sys: o.props})
	probs = append(probs, agent.Check(cfg, agent.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})...)
	probs.Sort()
	return cfg, probs.Dedup(), nil
}

func printProblems(w io.Writer, probs config.Problems) {
	for _, p := range probs {
		fmt.Fprintln(w, p.String())
	}
}

func runValidate(args []string, stdout, stderr io.Writer) int {
	o, err := parseArgs(args)
	if err != nil {
		fmt.Fprintf(stderr, "flume-ng validate: %v\n", err)
		return 2
	}
	if o.help {
		fmt.Fprint(stdout, usage)
		return 0
	}
	rem, err := openRemote(context.Background(), o, newLogger(o.props, stderr))
	if err != nil {
		fmt.Fprintf(stderr, "flume-ng validate: %v\n", err)
		return 1
	}
	cfg, probs, err := load(o, rem)
	if err != nil {
		fmt.Fprintf(stderr, "flume-ng validate: %v\n", err)
		return 1
	}
	printProblems(stderr, probs)
	printTopology(stdout, cfg)
	nerr, nwarn := len(probs.Errors()), len(probs.Warnings())
	fmt.Fprintf(stdout, "agent %q: %d source(s), %d channel(s), %d sink(s), %d sink group(s); %d error(s), %d warning(s)\n",
		o.name, len(cfg.Sources), len(cfg.Channels), len(cfg.Sinks), len(cfg.SinkGroups), nerr, nwarn)
	if nerr > 0 {
		return 1
	}
	return 0
}

func runAgent(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseArgs(args)
	if err != nil {
		fmt.Fprintf(stderr, "flume-ng agent: %v\n\n%s", err, usage)
		return 2
	}
	if o.help {
		fmt.Fprint(stdout, usage)
		return 0
	}
	log := newLogger(o.props, stderr)
	// Before anything is built: components and libraries that log through
	// slog.Default() (or the log package, which slog.SetDefault redirects)
	// then write the same format to the same place as the engine.
	defer setDefaultLogger(log)()
	for _, x := range o.ignored {
		log.Info("JVM option ignored", "option", x)
	}
	rem, err := openRemote(ctx, o, log)
	if err != nil {
		fmt.Fprintf(stderr, "flume-ng agent: %v\n", err)
		return 1
	}
	cfg, probs, err := load(o, rem)
	if err != nil {
		fmt.Fprintf(stderr, "flume-ng agent: %v\n", err)
		return 1
	}
	printProblems(stderr, probs)
	if probs.HasErrors() {
		fmt.Fprintf(stderr, "flume-ng agent: configuration refused: %d error(s); nothing started\n", len(probs.Errors()))
		return 1
	}
	if err := rem.saveBackup(); err != nil {
		log.Warn("configuration backup not written", "err", err)
	}
	mcfg, monitoring, err := monitor.ConfigFromProperties(o.props)
	if err != nil {
		fmt.Fprintf(stderr, "flume-ng agent: %v\n", err)
		return 1
	}
	ag := agent.New(agent.Options{Logger: log})
	if err := ag.Start(ctx, cfg); err != nil {
		fmt.Fprintf(stderr, "flume-ng agent: %v\n", err)
		return 1
	}
	log.Info("agent started", "agent", o.name, "config", o.sourceNames(rem), "components", strings.Join(agent.Summary(cfg), "; "))
	if monitoring {
		srv, err := monitor.Start(mcfg, ag)
		if err != nil {
			ag.Stop()
			fmt.Fprintf(stderr, "flume-ng agent: %v\n", err)
			return 1
		}
		defer srv.Close()
		log.Info("monitoring started", "type", mcfg.Type, "addr", srv.Addr())
	}
	watchDone := make(chan struct{})
	if o.noReload {
		close(watchDone)
	} else {
		go func() {
			defer close(watchDone)
			watch(ctx, o, rem, func() { reload(ctx, o, rem, ag, log, stderr) })
		}()
	}
	<-ctx.Done()
	log.Info("stopping agent", "agent", o.name)
	<-watchDone
	ag.Stop()
	log.Info("agent stopped", "agent", o.name)
	return 0
}

// openRemote fetches the --conf-uri sources once (nil without any); see
// remote.start for an unreachable URI.
func openRemote(ctx context.Context, o *options, log *slog.Logger) (*remote, error) {
	if err := checkSources(o); err != nil {
		return nil, err
	}
	if len(o.uris) == 0 {
		if o.confUser != "" || o.backupDir != "" {
			log.Warn("--conf-user, --conf-password and -b apply to configuration URIs (-u); there is none")
		}
		return nil, nil
	}
	rem, err := newRemote(o, log)
	if err != nil {
		return nil, err
	}
	if err := rem.start(ctx); err != nil {
		return nil, err
	}
	return rem, nil
}

// watch polls the files (as agent.Watcher does) and the URIs, each at its
// own interval, and calls onChange after a change, until ctx is done. One
// goroutine does both, so reloads never overlap. A URI that cannot be
// fetched is a warning: the running configuration stays.
func watch(ctx context.Context, o *options, rem *remote, onChange func()) {
	var fileTick, uriTick <-chan time.Time
	var w *agent.Watcher
	if len(o.files) > 0 {
		w = agent.NewWatcher(o.files...)
		t := time.NewTicker(o.poll)
		defer t.Stop()
		fileTick = t.C
	}
	if rem != nil {
		t := time.NewTicker(o.uriPoll())
		defer t.Stop()
		uriTick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-fileTick:
			if w.Changed() {
				onChange()
			}
		case <-uriTick:
			changed, err := rem.refresh(ctx)
			if err != nil {
				if ctx.Err() == nil {
					rem.log.Warn("configuration URI unreachable; keeping the running configuration", "err", err)
				}
				continue
			}
			if changed {
				onChange()
			}
		}
	}
}

// reload applies a changed configuration; a configuration with errors is
// reported and the running one kept.
func reload(ctx context.Context, o *options, rem *remote, ag *agent.Agent, log *slog.Logger, stderr io.Writer) {
	log.Info("configuration changed; reloading", "config", o.sourceNames(rem))
	cfg, probs, err := load(o, rem)
	if err != nil {
		log.Error("reload failed; keeping the running configuration", "err", err)
		return
	}
	printProblems(stderr, probs)
	if probs.HasErrors() {
		log.Error("new configuration refused; keeping the running one", "errors", len(probs.Errors()))
		return
	}
	if err := rem.saveBackup(); err != nil {
		log.Warn("configuration backup not written", "err", err)
	}
	if err := ag.Reload(ctx, cfg); err != nil {
		log.Error("reload failed", "err", err)
		return
	}
	log.Info("configuration reloaded", "components", strings.Join(agent.Summary(cfg), "; "))
}

// runHelp prints the usage and every known type, or the spec of one type:
// the same specs the reference in docs/reference is generated from.
func runHelp(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stdout, usage)
		fmt.Fprintln(stdout, "\ncomponent types (flume-ng help TYPE for their keys):")
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		for _, s := range docgen.Sections() {
			var names []string
			for _, sp := range s.Specs {
				names = append(names, sp.Alias)
			}
			fmt.Fprintf(tw, "  %s:\t%s\n", strings.ToLower(s.Title), strings.Join(names, " "))
		}
		fmt.Fprintf(tw, "  monitoring:\t%s\n", "http prometheus (-Dflume.monitoring.type=...)")
		tw.Flush()
		return 0
	}
	specs := docgen.Lookup(args[0])
	if len(specs) == 0 {
		fmt.Fprintf(stderr, "flume-ng help: no component type %q%s (flume-ng help lists them)\n", args[0], config.DidYouMean(args[0], docgen.Aliases()))
		return 1
	}
	for i := range specs {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		printSpec(stdout, &specs[i])
	}
	return 0
}

// kindInfo says how a kind is named in help and where its keys go.
var kindInfo = map[flume.Kind]struct{ name, prefix string }{
	flume.KindSource:         {"source", "<agent>.sources.<name>."},
	flume.KindChannel:        {"channel", "<agent>.channels.<name>."},
	flume.KindSink:           {"sink", "<agent>.sinks.<name>."},
	flume.KindInterceptor:    {"interceptor", "<agent>.sources.<source>.interceptors.<name>."},
	config.KindSelector:      {"channel selector", "<agent>.sources.<source>.selector."},
	config.KindSinkProcessor: {"sink processor", "<agent>.sinkgroups.<group>.processor."},
	serializer.Kind:          {"serializer", "<agent>.sinks.<sink>.serializer."},
}

func printSpec(w io.Writer, s *flume.Spec) {
	info, ok := kindInfo[s.Kind]
	if !ok {
		info.name = string(s.Kind)
	}
	fmt.Fprintf(w, "%s %s", info.name, s.Alias)
	if s.Class != "" {
		fmt.Fprintf(w, " (%s)", s.Class)
	}
	fmt.Fprintln(w)
	if s.Doc != "" {
		fmt.Fprintf(w, "\n%s\n", s.Doc)
	}
	if len(s.Keys) > 0 {
		keys := append([]flume.Key(nil), s.Keys...)
		sort.SliceStable(keys, func(i, j int) bool { return keys[i].Required && !keys[j].Required })
		if info.prefix != "" {
			fmt.Fprintf(w, "\nkeys (under %s):\n", info.prefix)
		} else {
			fmt.Fprintln(w, "\nkeys:")
		}
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  KEY\tTYPE\tDEFAULT\tDESCRIPTION")
		for _, k := range keys {
			def := k.Default
			if k.Required {
				def = "(required)"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", docgen.KeyName(k), k.Type, def, k.Doc)
		}
		tw.Flush()
	}
	if extra := commonNames(config.CommonKeys(s.Kind), s); len(extra) > 0 {
		fmt.Fprintf(w, "\nplus the keys every %s accepts: %s\n", info.name, strings.Join(extra, " "))
	}
}

// commonNames lists the engine's keys for the kind that the spec does not
// declare itself.
func commonNames(keys []flume.Key, s *flume.Spec) []string {
	var out []string
	for _, k := range keys {
		if !s.Accepts(k.Name) {
			out = append(out, docgen.KeyName(k))
		}
	}
	return out
}
