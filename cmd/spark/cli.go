package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strings"

	"ampsflume/amps"
)

// usageError is a command line that cannot run; it exits with status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// env is what a command runs with.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

type command struct {
	summary string
	flags   func(fs *flag.FlagSet, o *opts)
	run     func(ctx context.Context, e *env, o *opts) error
}

var commands = map[string]*command{
	"ping":              {summary: "connect and log on to a server", flags: noFlags, run: runPing},
	"publish":           {summary: "publish messages from a file or standard input", flags: publishFlags, run: runPublish},
	"subscribe":         {summary: "subscribe to a topic and print the messages", flags: subscribeFlags, run: runSubscribe},
	"sow":               {summary: "query the State of the World of a topic", flags: sowFlags, run: runSow},
	"sow_and_subscribe": {summary: "query a topic and subscribe to its updates", flags: sowAndSubscribeFlags, run: runSowAndSubscribe},
	"sow_delete":        {summary: "delete SOW records by filter or by message", flags: sowDeleteFlags, run: runSowDelete},
}

// opts are the flags of every command; each command registers its own.
type opts struct {
	cmd       string
	server    string
	topic     string
	proto     string
	msgType   string
	secure    bool
	uriScheme string
	uriOpts   string

	file      string
	delimiter int
	rate      float64
	delta     bool
	pubStore  string // hapublish.go
	name      string

	filter    string
	options   string
	format    string
	batchSize int
	orderBy   string
	topN      int
	ack       bool
	backlog   int
}

func commonFlags(fs *flag.FlagSet, o *opts) {
	fs.StringVar(&o.server, "server", "", "AMPS server as [user:password@]host:port (required)")
	fs.StringVar(&o.proto, "proto", "amps", "protocol: amps (json is a synonym)")
	fs.StringVar(&o.proto, "prot", "amps", "synonym of -proto")
	fs.StringVar(&o.msgType, "type", "json", "message type")
	fs.BoolVar(&o.secure, "secure", false, "connect with TLS (tcps)")
	fs.StringVar(&o.uriScheme, "urischeme", "", "URI scheme to use instead of tcp or tcps")
	fs.StringVar(&o.uriOpts, "uriopts", "", "URI options, as a query string (a=b&c=d)")
}

func topicFlag(fs *flag.FlagSet, o *opts) {
	fs.StringVar(&o.topic, "topic", "", "topic (required)")
}

func noFlags(fs *flag.FlagSet, o *opts) { commonFlags(fs, o) }

func publishFlags(fs *flag.FlagSet, o *opts) {
	commonFlags(fs, o)
	topicFlag(fs, o)
	fs.StringVar(&o.file, "file", "", "file of messages, one per delimiter (standard input when omitted; .zip accepted)")
	fs.IntVar(&o.delimiter, "delimiter", 10, "decimal code of the byte separating messages")
	fs.Float64Var(&o.rate, "rate", 0, "messages per second, decimals allowed (.25 = one every 4 s); 0 = as fast as possible")
	fs.BoolVar(&o.delta, "delta", false, "send delta_publish")
	haPublishFlags(fs, o)
}

func readFlags(fs *flag.FlagSet, o *opts) {
	commonFlags(fs, o)
	topicFlag(fs, o)
	fs.StringVar(&o.filter, "filter", "", "content filter")
	fs.StringVar(&o.options, "opts", "", "options of the command")
	fs.StringVar(&o.format, "format", "", "output format with tags such as {command}, {topic}, {sowkey}, {data}")
}

func subscribeFlags(fs *flag.FlagSet, o *opts) {
	readFlags(fs, o)
	fs.BoolVar(&o.delta, "delta", false, "use delta_subscribe")
	fs.BoolVar(&o.ack, "ack", false, "acknowledge queue messages after printing them")
	fs.IntVar(&o.backlog, "backlog", 0, "queue max_backlog")
}

func sowFlags(fs *flag.FlagSet, o *opts) {
	readFlags(fs, o)
	fs.IntVar(&o.batchSize, "batchsize", 10, "records per sow batch")
	fs.StringVar(&o.orderBy, "orderby", "", "order-by expression, e.g. \"/price DESC\"")
	fs.IntVar(&o.topN, "topn", 0, "return at most N records")
}

func sowAndSubscribeFlags(fs *flag.FlagSet, o *opts) {
	sowFlags(fs, o)
	fs.BoolVar(&o.delta, "delta", false, "use sow_and_delta_subscribe")
}

func sowDeleteFlags(fs *flag.FlagSet, o *opts) {
	commonFlags(fs, o)
	topicFlag(fs, o)
	fs.StringVar(&o.filter, "filter", "", "delete the records matching this filter (1=1 for all)")
	fs.StringVar(&o.file, "file", "", "delete the records of these messages (standard input when no -filter and no -file)")
	fs.IntVar(&o.delimiter, "delimiter", 10, "decimal code of the byte separating messages")
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printHelp(stderr)
		return 2
	}
	name := args[0]
	if name == "help" || name == "-help" || name == "--help" || name == "-h" {
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				fs := flag.NewFlagSet("spark "+args[1], flag.ContinueOnError)
				fs.SetOutput(stdout)
				c.flags(fs, &opts{})
				fmt.Fprintf(stdout, "spark %s: %s\n\n", args[1], c.summary)
				fs.PrintDefaults()
				return 0
			}
		}
		printHelp(stdout)
		return 0
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "spark: unknown command %q\n", name)
		printHelp(stderr)
		return 2
	}
	o := &opts{cmd: name}
	fs := flag.NewFlagSet("spark "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.flags(fs, o)
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "spark %s: unexpected argument %q\n", name, fs.Arg(0))
		return 2
	}
	err := validate(fs, o)
	if err == nil {
		err = c.run(ctx, &env{stdin: stdin, stdout: stdout, stderr: stderr}, o)
	}
	var ue *usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "spark %s: %v\n", name, err)
		return 2
	default:
		fmt.Fprintf(stderr, "spark %s: %v\n", name, err)
		return 1
	}
}

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "usage: spark help [command]")
	fmt.Fprintln(w, "       spark <command> -server [user:password@]host:port [flags]")
	fmt.Fprintln(w, "\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-18s %s\n", n, commands[n].summary)
	}
}

func validate(fs *flag.FlagSet, o *opts) error {
	if o.server == "" {
		return usagef("-server is required")
	}
	if fs.Lookup("topic") != nil && o.topic == "" {
		return usagef("-topic is required")
	}
	switch strings.ToLower(o.proto) {
	case "amps", "json":
	case "fix", "nvfix", "xml":
		return usagef("protocol %q is not supported (use amps)", o.proto)
	default:
		return usagef("unknown protocol %q", o.proto)
	}
	if o.delimiter < 0 || o.delimiter > 255 {
		return usagef("-delimiter %d is not a byte value (0..255)", o.delimiter)
	}
	if o.rate < 0 {
		return usagef("-rate must not be negative")
	}
	if o.batchSize < 0 || o.topN < 0 || o.backlog < 0 {
		return usagef("-batchsize, -topn and -backlog must not be negative")
	}
	return nil
}

// uri builds the connection string from -server and the URI flags.
func (o *opts) uri() (string, error) {
	scheme := "tcp"
	if o.secure {
		scheme = "tcps"
	}
	if o.uriScheme != "" {
		scheme = strings.TrimSuffix(o.uriScheme, "://")
	}
	server := o.server
	if i := strings.Index(server, "://"); i >= 0 {
		return "", usagef("-server takes [user:password@]host:port, not a URI (use -urischeme)")
	}
	hostport := server
	userinfo := ""
	if at := strings.LastIndexByte(server, '@'); at >= 0 {
		userinfo, hostport = server[:at+1], server[at+1:]
	}
	if _, _, err := net.SplitHostPort(hostport); err != nil {
		return "", usagef("-server %q: want host:port", hostport)
	}
	u := scheme + "://" + userinfo + hostport + "/amps/" + o.msgType
	if o.uriOpts != "" {
		u += "?" + strings.TrimPrefix(o.uriOpts, "?")
	}
	return u, nil
}

// connect opens a client and logs on.
func connect(ctx context.Context, o *opts) (*amps.Client, *amps.URI, error) {
	uri, err := o.uri()
	if err != nil {
		return nil, nil, err
	}
	host, _ := os.Hostname()
	c := amps.NewClient(fmt.Sprintf("spark-%s-%d", host, os.Getpid()))
	if err := c.Connect(ctx, uri); err != nil {
		return nil, nil, err
	}
	if _, err := c.Logon(ctx); err != nil {
		_ = c.Close()
		return nil, nil, err
	}
	return c, c.URI(), nil
}

func runPing(ctx context.Context, e *env, o *opts) error {
	c, u, err := connect(ctx, o)
	if err != nil {
		return err
	}
	defer c.Close()
	fmt.Fprintf(e.stdout, "Successfully connected to %s\n", u)
	return nil
}
