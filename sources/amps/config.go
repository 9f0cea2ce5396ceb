package amps

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"ampsflume/flume"
)

// Names under which the source is registered.
const (
	Class = "com.crankuptheamps.flume.AMPSFlumeSource"
	Alias = "amps"
)

// Defaults of the original source.
const (
	DefaultClientFactory = "com.crankuptheamps.flume.AMPSBasicClientFunction"
	DefaultCommand       = "subscribe"
	// DefaultCmdTypeFilter is Publish|SOW|DeltaPublish|OOF.
	DefaultCmdTypeFilter = CmdPublish | CmdSOW | CmdDeltaPublish | CmdOOF
	DefaultMaxBuffers    = 10
	DefaultMaxBatch      = 1000
	DefaultPruneTime     = 300000 * time.Millisecond
	// DefaultExactlyOnceHeader is the event header that carries a message's
	// bookmark in exactly-once mode.
	DefaultExactlyOnceHeader = "ampsBookmark"
)

// Message command bits for cmdTypeFilter, with the values of the AMPS
// clients' command enumeration so that existing configurations keep their
// meaning.
const (
	CmdPublish      = 1
	CmdSOW          = 8
	CmdHeartbeat    = 16
	CmdDeltaPublish = 64
	CmdGroupBegin   = 8192
	CmdGroupEnd     = 16384
	CmdOOF          = 32768
	CmdAck          = 65536
)

// commandBit maps a message's command name to its cmdTypeFilter bit.
func commandBit(name string) int {
	switch name {
	case "p", "publish":
		return CmdPublish
	case "sow":
		return CmdSOW
	case "heartbeat":
		return CmdHeartbeat
	case "delta_publish":
		return CmdDeltaPublish
	case "group_begin":
		return CmdGroupBegin
	case "group_end":
		return CmdGroupEnd
	case "oof":
		return CmdOOF
	case "ack":
		return CmdAck
	}
	return 0
}

// Event header keys that eventHeaders may name.
const (
	HeaderCommand       = "command"
	HeaderTopic         = "topic"
	HeaderSowKey        = "sowKey"
	HeaderAMPSTimestamp = "ampsTimestamp"
	HeaderBookmark      = "bookmark"
	HeaderCorrelationID = "correlationId"
	HeaderSubID         = "subId"
	HeaderLength        = "length"
	HeaderTimestamp     = "timestamp"
)

var headerKeys = []string{
	HeaderCommand, HeaderTopic, HeaderSowKey, HeaderAMPSTimestamp, HeaderBookmark,
	HeaderCorrelationID, HeaderSubID, HeaderLength, HeaderTimestamp,
}

var commands = []string{"subscribe", "delta_subscribe", "sow_and_subscribe", "sow_and_delta_subscribe", "sow"}

// Spec declares every key of the source.
var Spec = flume.Spec{
	Kind:  flume.KindSource,
	Alias: Alias,
	Class: Class,
	Doc: "Subscribes to an AMPS topic (optionally a bookmark subscription that " +
		"resumes after restarts) and delivers each message as an event whose body " +
		"is the message payload.",
	Keys: []flume.Key{
		{Name: "clientFactoryClass", Type: "string", Default: DefaultClientFactory,
			Doc: "Name of the registered client factory that connects to AMPS. The default builds an HA client over the uri keys that reconnects, logs on again and resubscribes."},
		{Name: "clientName", Type: "string", Required: true,
			Doc: "AMPS client name; must be unique among the server's clients."},
		{Name: "uri", Type: "string",
			Doc: "AMPS transport URI, e.g. tcp://host:9007/amps/json. Used when uri1 is not set."},
		{Name: "uri<N>", Type: "string",
			Doc: "HA server URIs uri1, uri2, ... numbered from 1 without gaps; tried in turn on failover."},
		{Name: "bookmarkLog", Type: "string",
			Doc: "Path of the bookmark store log. When set, the source makes a bookmark subscription that resumes after the last committed message, and requires subscriptionId."},
		{Name: "command", Type: "string", Default: DefaultCommand,
			Doc: "Subscription command: " + strings.Join(commands, ", ") + "."},
		{Name: "topic", Type: "string", Required: true,
			Doc: "Topic (or topic regular expression) to subscribe to."},
		{Name: "filter", Type: "string", Doc: "AMPS content filter of the subscription."},
		{Name: "options", Type: "string", Doc: "AMPS options of the subscription (projection, grouping, conflation, max_backlog, ...). A subscribe without bookmarkLog adds max_backlog=maxBatch unless max_backlog is named; max_backlog may not exceed maxBuffers × maxBatch."},
		{Name: "subscriptionId", Type: "string",
			Doc: "Subscription id; required with bookmarkLog (it names the subscription in the bookmark store)."},
		{Name: "cmdTypeFilter", Type: "int", Default: strconv.Itoa(DefaultCmdTypeFilter),
			Doc: "Decimal bitmask of the message commands turned into events: publish 1, sow 8, delta_publish 64, group_begin 8192, group_end 16384, oof 32768, ack 65536."},
		{Name: "maxBuffers", Type: "int", Default: strconv.Itoa(DefaultMaxBuffers),
			Doc: "Number of maxBatch-sized buffers held in memory before reading from AMPS pauses."},
		{Name: "maxBatch", Type: "int", Default: strconv.Itoa(DefaultMaxBatch), ChannelChecked: true,
			Doc: "Largest batch committed to the channels per poll; must not exceed any channel's transactionCapacity."},
		{Name: "pruneTimeThreshold", Type: "duration(ms)", Default: "300000",
			Doc: "Minimum time between prunes of the bookmark log, which is also pruned on stop; 0 disables pruning."},
		{Name: "eventHeaders", Type: "string",
			Doc: "Comma list of headers to add to each event: " + strings.Join(headerKeys, ", ") + " (timestamp is the local receive time in epoch ms)."},
		{Name: "pubStoreType", Type: "string", Default: "none",
			Doc: "Publish store of the client (none, memory, file); accepted for compatibility, the source does not publish."},
		{Name: "pubStoreInitialCap", Type: "int", Default: "1000", Doc: "Initial capacity of the publish store."},
		{Name: "pubStorePath", Type: "string", Doc: "Path of a file publish store; required with pubStoreType=file."},
		{Name: "exactlyOnce", Type: "bool", Default: "false",
			Doc: "Exactly-once delivery into files: every event carries its message's bookmark in the exactlyOnce.header header, for a file_roll (sink.dedupe.header) or hdfs (hdfs.dedupe.header) sink that records the highest bookmark it wrote per publisher, atomically with its output, and skips redelivered events. Requires bookmarkLog and command subscribe."},
		{Name: "exactlyOnce.header", Type: "string", Default: DefaultExactlyOnceHeader,
			Doc: "Name of the header that carries the bookmark in exactly-once mode; the sink's dedupe header must name the same."},
		{Name: "backoffSleepIncrement", Type: "duration(ms)", Default: "1000",
			Doc: "Runner back-off step after an empty poll (the source wakes the runner as soon as messages arrive)."},
		{Name: "maxBackoffSleep", Type: "duration(ms)", Default: "5000", Doc: "Runner back-off ceiling."},
	},
}

// Config is the parsed configuration of a source.
type Config struct {
	ClientFactory  string
	ClientName     string
	URIs           []string
	BookmarkLog    string
	Command        string
	Topic          string
	Filter         string
	Options        string
	SubscriptionID string
	CmdTypeFilter  int
	MaxBuffers     int
	MaxBatch       int
	PruneThreshold time.Duration
	EventHeaders   []string
	PubStoreType   string
	PubStorePath   string
	PubStoreCap    int
	// BookmarkHeader, when not empty, is the header that carries every
	// event's bookmark (exactly-once mode).
	BookmarkHeader string
	// MaxBacklog is the max_backlog the subscription asks for: the one in
	// options, or MaxBatch for a subscribe without bookmarkLog (the only
	// subscription that can be a queue's); 0 when not asked for.
	MaxBacklog int
}

// SubscribeOptions are the options the subscription is made with: options,
// plus max_backlog=MaxBatch when options do not name max_backlog and the
// subscription could be to a queue.
func (c Config) SubscribeOptions() string {
	if c.MaxBacklog == 0 || hasBacklog(c.Options) {
		return c.Options
	}
	o := "max_backlog=" + strconv.Itoa(c.MaxBacklog)
	if c.Options == "" {
		return o
	}
	return c.Options + "," + o
}

// hasBacklog tells whether options name max_backlog.
func hasBacklog(options string) bool {
	_, ok, _ := parseBacklog(options)
	return ok
}

// parseBacklog finds max_backlog=N in a comma list of options.
func parseBacklog(options string) (n int, ok bool, err error) {
	for o := range strings.SplitSeq(options, ",") {
		v, found := strings.CutPrefix(strings.TrimSpace(o), "max_backlog=")
		if !found {
			continue
		}
		n, err = strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 {
			return 0, true, fmt.Errorf("max_backlog=%s is not a whole number of at least 1", v)
		}
		return n, true, nil
	}
	return 0, false, nil
}

// value returns a key's trimmed value; Flume ignores keys with empty values,
// and the article's example relies on it ("bookmarkLog =").
func value(c *flume.Context, key string) string {
	p, ok := c.Lookup(key)
	if !ok {
		return ""
	}
	return strings.TrimSpace(p.Value)
}

func required(c *flume.Context, key, why string) (string, error) {
	v := value(c, key)
	if v == "" {
		return "", c.Errorf(key, "is required%s", why)
	}
	return v, nil
}

// ParseConfig reads and validates the keys. channels are the channels the
// source writes to, for the maxBatch check. Every invalid key is reported
// (joined), not only the first.
func ParseConfig(c *flume.Context, channels []flume.ChannelInfo) (Config, error) {
	var cfg Config
	var errs flume.ConfigErrors
	var err error
	cfg.ClientFactory = value(c, "clientFactoryClass")
	if cfg.ClientFactory == "" {
		cfg.ClientFactory = DefaultClientFactory
	}
	cfg.ClientName, err = required(c, "clientName", ": the AMPS client name")
	errs.Add(err)
	cfg.URIs, err = parseURIs(c)
	errs.Add(err)
	cfg.BookmarkLog = value(c, "bookmarkLog")
	cfg.Command = value(c, "command")
	if cfg.Command == "" {
		cfg.Command = DefaultCommand
	}
	commandOK := slices.Contains(commands, cfg.Command)
	if !commandOK {
		errs.Add(c.Errorf("command", "unsupported command %q (use one of %s)", cfg.Command, strings.Join(commands, ", ")))
	}
	cfg.Topic, err = required(c, "topic", ": the topic to subscribe to")
	errs.Add(err)
	cfg.Filter = value(c, "filter")
	cfg.Options = value(c, "options")
	cfg.SubscriptionID = value(c, "subscriptionId")
	if cfg.BookmarkLog != "" && cfg.SubscriptionID == "" {
		errs.Add(c.Errorf("subscriptionId", "must be set when using a bookmark subscription (bookmarkLog is set)"))
	}
	if commandOK && cfg.BookmarkLog != "" && (cfg.Command == "sow" || strings.Contains(cfg.Command, "delta")) {
		errs.Add(c.Errorf("command", "%s cannot be a bookmark subscription; use subscribe or sow_and_subscribe with bookmarkLog", cfg.Command))
	}
	f, err := c.IntRange("cmdTypeFilter", DefaultCmdTypeFilter, 1, 1<<31-1)
	errs.Add(err)
	cfg.CmdTypeFilter = int(f)
	nb, err := c.IntRange("maxBuffers", DefaultMaxBuffers, 1, 1<<20)
	errs.Add(err)
	cfg.MaxBuffers = int(nb)
	mb, err := c.IntRange("maxBatch", DefaultMaxBatch, 1, 1<<24)
	cfg.MaxBatch = int(mb)
	if !errs.Add(err) {
		errs.Add(checkMaxBatch(c, cfg.MaxBatch, channels))
	}
	errs.Add(parseMaxBacklog(c, &cfg))
	cfg.PruneThreshold, err = c.Duration("pruneTimeThreshold", DefaultPruneTime, time.Millisecond)
	errs.Add(err)
	cfg.EventHeaders, err = parseHeaders(c)
	errs.Add(err)
	if commandOK {
		cfg.BookmarkHeader, err = parseExactlyOnce(c, cfg)
		errs.Add(err)
	}
	cfg.PubStoreType = value(c, "pubStoreType")
	switch cfg.PubStoreType {
	case "", "none", "memory":
	case "file":
		if cfg.PubStorePath = value(c, "pubStorePath"); cfg.PubStorePath == "" {
			errs.Add(c.Errorf("pubStorePath", "must be specified for a file-backed publish store"))
		}
	default:
		errs.Add(c.Errorf("pubStoreType", "%q is not none, memory or file", cfg.PubStoreType))
	}
	cp, err := c.IntRange("pubStoreInitialCap", 1000, 1, 1<<30)
	errs.Add(err)
	cfg.PubStoreCap = int(cp)
	for _, k := range []string{"backoffSleepIncrement", "maxBackoffSleep"} {
		_, err := c.Duration(k, 0, time.Millisecond)
		errs.Add(err)
	}
	return cfg, errs.Err()
}

// parseMaxBacklog sets MaxBacklog. A queue leases a subscription up to
// max_backlog messages at a time and the source acknowledges them only once
// committed, so a max_backlog above what the buffer holds would only park
// leased messages in the socket, out of sight of the source's metrics and
// unavailable to the queue's other consumers: it is refused. Without one, a
// subscribe asks for one batch: the server's default of 1 would make every
// commit a single-message transaction.
func parseMaxBacklog(c *flume.Context, cfg *Config) error {
	n, ok, err := parseBacklog(cfg.Options)
	switch {
	case err != nil:
		return c.Errorf("options", "%v", err)
	case ok && cfg.MaxBuffers > 0 && n > cfg.MaxBuffers*cfg.MaxBatch:
		return c.Errorf("options", "max_backlog=%d is more than the source buffers (maxBuffers × maxBatch = %d): the extra leased messages would wait unseen in the socket; lower max_backlog or raise maxBuffers", n, cfg.MaxBuffers*cfg.MaxBatch)
	case ok:
		cfg.MaxBacklog = n
	case cfg.Command == "subscribe" && cfg.BookmarkLog == "":
		cfg.MaxBacklog = cfg.MaxBatch
	}
	return nil
}

// checkMaxBatch refuses a batch larger than a channel's transactionCapacity:
// every commit to that channel would fail. The source checks this itself
// (its spec marks maxBatch ChannelChecked) because it is handed the built
// channels' real limits; the configuration checker then leaves it alone.
func checkMaxBatch(c *flume.Context, maxBatch int, channels []flume.ChannelInfo) error {
	var errs flume.ConfigErrors
	how := "is"
	if !c.Has("maxBatch") {
		how = "defaults to"
	}
	for _, ch := range channels {
		if ch.TransactionCapacity > 0 && maxBatch > ch.TransactionCapacity {
			errs.Add(c.Errorf("maxBatch", "%s %d, more than the transactionCapacity %d of channel %q; every transaction would fail: lower maxBatch or raise the channel's transactionCapacity", how, maxBatch, ch.TransactionCapacity, ch.Name))
		}
	}
	return errs.Err()
}

// parseURIs reads uri1..uriN without gaps, else uri. Every bad key is
// reported.
func parseURIs(c *flume.Context) ([]string, error) {
	var errs flume.ConfigErrors
	var uris []string
	highest := 0
	for _, k := range c.Keys() {
		if n, ok := strings.CutPrefix(k, "uri"); ok && n != "" {
			i, err := strconv.Atoi(n)
			if err != nil || i < 1 || strconv.Itoa(i) != n {
				errs.Add(c.Errorf(k, "HA URIs are numbered uri1, uri2, ..."))
				continue
			}
			highest = max(highest, i)
		}
	}
	for i := 1; i <= highest; i++ {
		k := "uri" + strconv.Itoa(i)
		v := value(c, k)
		if v == "" {
			errs.Add(c.Errorf(k, "missing: HA URIs must be numbered from uri1 without gaps, and uri%d is set", highest))
			continue
		}
		if !strings.Contains(v, "://") {
			errs.Add(c.Errorf(k, "%q is not a URI such as tcp://host:9007/amps/json", v))
			continue
		}
		uris = append(uris, v)
	}
	if highest == 0 {
		if v := value(c, "uri"); v != "" {
			if strings.Contains(v, "://") {
				uris = []string{v}
			} else {
				errs.Add(c.Errorf("uri", "%q is not a URI such as tcp://host:9007/amps/json", v))
			}
		} else if errs.Len() == 0 {
			errs.Add(c.Errorf("uri", "is required: set uri, or uri1, uri2, ... for HA servers"))
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return uris, nil
}

// parseExactlyOnce returns the bookmark header of exactly-once mode, "" when
// the mode is off. The mode needs a bookmark subscription (so that what the
// channels hold is redelivered, never lost, after a crash) on a plain
// subscribe: sow records and out-of-focus messages carry no bookmark that
// orders them per publisher.
func parseExactlyOnce(c *flume.Context, cfg Config) (string, error) {
	on := false
	if value(c, "exactlyOnce") != "" {
		var err error
		if on, err = c.Bool("exactlyOnce", false); err != nil {
			return "", err
		}
	}
	if !on {
		return "", nil
	}
	if cfg.BookmarkLog == "" {
		return "", c.Errorf("exactlyOnce", "needs bookmarkLog (and subscriptionId): exactly-once delivery resumes a bookmark subscription after a crash")
	}
	if cfg.Command != "subscribe" {
		return "", c.Errorf("exactlyOnce", "needs command subscribe, not %s: only published messages carry a per-publisher bookmark sequence", cfg.Command)
	}
	h := value(c, "exactlyOnce.header")
	if h == "" {
		h = DefaultExactlyOnceHeader
	}
	return h, nil
}

func parseHeaders(c *flume.Context) ([]string, error) {
	v := value(c, "eventHeaders")
	if v == "" {
		return nil, nil
	}
	var out, bad []string
	for _, h := range strings.Split(v, ",") {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		if !slices.Contains(headerKeys, h) {
			bad = append(bad, h)
			continue
		}
		if !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	if len(bad) > 0 {
		return nil, c.Errorf("eventHeaders", "invalid event header key(s): [%s] (valid: %s)", strings.Join(bad, ", "), strings.Join(headerKeys, ", "))
	}
	return out, nil
}

func (cfg Config) String() string {
	return fmt.Sprintf("%s %s on %v", cfg.Command, cfg.Topic, cfg.URIs)
}
