package config

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"ampsflume/flume"
)

// KindSinkGroup is the kind of a sink group (it has no registry entry: its
// processor types are built into the engine).
const KindSinkGroup flume.Kind = "sinkgroup"

// Options are the inputs of substitution.
type Options struct {
	// Env looks up environment variables; nil means os.LookupEnv.
	Env func(string) (string, bool)
	// Sys holds the -Dkey=value options of the command line, for ${sys:key}.
	Sys map[string]string
}

// Backoff is a pollable source runner's back-off setting (Flume 1.7+ keys
// backoffSleepIncrement and maxBackoffSleep, in milliseconds).
type Backoff struct {
	Increment time.Duration
	Max       time.Duration
}

// DefaultBackoff is Flume's default: 1 s more per consecutive idle poll, at
// most 5 s.
var DefaultBackoff = Backoff{Increment: time.Second, Max: 5 * time.Second}

// Component is one configured source, channel, sink or sink group, with its
// wiring already checked.
type Component struct {
	Kind flume.Kind
	Name string
	// Type is the configured type (alias or Java class name); empty for
	// sink groups.
	Type string
	// Loc is where the component is declared: its type line, or its first
	// property.
	Loc flume.Location
	// Props are the component's keys relative to its prefix, as written.
	Props map[string]flume.Property
	// Reg is the registry entry of Type (nil for sink groups).
	Reg *flume.Registration

	// Sources.
	Channels     []string
	Selector     *Selector
	Interceptors []*Interceptor
	Backoff      Backoff

	// Sinks.
	Channel string

	// Sink groups.
	Sinks     []string
	Processor *Processor
}

// Describe names the component for messages: `source "r1"`.
func (c *Component) Describe() string { return describe(c.Kind, c.Name) }

func describe(k flume.Kind, name string) string {
	if k == KindSinkGroup {
		return fmt.Sprintf("sink group %q", name)
	}
	return fmt.Sprintf("%s %q", k, name)
}

// Context is the configuration handed to the component's factory.
func (c *Component) Context() *flume.Context {
	return flume.NewContext(c.Describe(), c.Loc, c.Props)
}

// Interceptor is one interceptor of a source.
type Interceptor struct {
	Name  string
	Type  string
	Loc   flume.Location
	Props map[string]flume.Property // relative to interceptors.<name>.
	Reg   *flume.Registration
	owner string
}

// Context is the configuration handed to the interceptor's factory.
func (i *Interceptor) Context() *flume.Context {
	return flume.NewContext(fmt.Sprintf("interceptor %q of %s", i.Name, i.owner), i.Loc, i.Props)
}

// Agent is the validated configuration of one agent.
type Agent struct {
	Name       string
	Sources    []*Component
	Channels   []*Component
	Sinks      []*Component
	SinkGroups []*Component
}

// Channel returns the channel component called name.
func (a *Agent) Channel(name string) *Component { return find(a.Channels, name) }

// Sink returns the sink component called name.
func (a *Agent) Sink(name string) *Component { return find(a.Sinks, name) }

func find(cs []*Component, name string) *Component {
	for _, c := range cs {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// kindInfo maps the plural used in keys to the kind.
var kindByPlural = map[string]flume.Kind{
	"sources":    flume.KindSource,
	"channels":   flume.KindChannel,
	"sinks":      flume.KindSink,
	"sinkgroups": KindSinkGroup,
}

var topLevel = []string{"sources", "channels", "sinks", "sinkgroups", "configfilters"}

// engineKeys are the names of the keys the engine itself reads, per kind
// (declared in commonKeys); prefixes end in ".".
var engineKeys = func() map[flume.Kind][]string {
	m := map[flume.Kind][]string{}
	for k, keys := range commonKeys {
		m[k] = keyNames(keys)
	}
	return m
}()

// batchKeys are the keys by which sources and sinks set how many events they
// put or take per transaction.
var batchKeys = []string{"batchSize", "batch-size", "sink.batchSize", "maxBatch", "kafka.flumeBatchSize", "hdfs.batchSize"}

type builder struct {
	p     *Properties
	name  string
	r     *resolver
	probs Problems

	lists    map[string][]string       // sources, channels, ... → names
	listLoc  map[string]flume.Location // where each list was written
	comps    map[flume.Kind]map[string]map[string]flume.Property
	filters  map[string]map[string]flume.Property
	anyProp  bool
	firstLoc flume.Location
}

func (b *builder) add(sev Severity, loc flume.Location, component, key, format string, args ...any) {
	b.probs = append(b.probs, Problem{Severity: sev, Err: &flume.ConfigError{Loc: loc, Component: component, Key: key, Msg: fmt.Sprintf(format, args...)}})
}

// Agent extracts, checks and returns the configuration of agent name. It
// reports every problem it finds, errors and warnings; the agent must not be
// started when Problems.HasErrors is true (the returned Agent then holds what
// could be understood, for reporting).
func (p *Properties) Agent(name string, opts Options) (*Agent, Problems) {
	env := opts.Env
	if env == nil {
		env = os.LookupEnv
	}
	b := &builder{
		p:       p,
		name:    name,
		lists:   map[string][]string{},
		listLoc: map[string]flume.Location{},
		comps:   map[flume.Kind]map[string]map[string]flume.Property{},
		filters: map[string]map[string]flume.Property{},
	}
	b.r = &resolver{props: p, env: env, sys: opts.Sys, filters: map[string]string{}}
	b.collect()
	a := b.assemble()
	b.probs.Sort()
	return a, b.probs.Dedup()
}

func (b *builder) collect() {
	prefix := b.name + "."
	// Config filters must be known before any value is expanded.
	for _, k := range b.p.Keys() {
		if rest, ok := strings.CutPrefix(k, prefix+"configfilters."); ok {
			if f, key, ok := cutDot(rest); ok && key == "type" {
				b.r.filters[f] = strings.TrimSpace(b.p.props[k].Value)
			}
		}
	}
	for _, k := range b.p.Keys() {
		prop := b.p.props[k]
		key := strings.TrimSpace(k)
		agent, rest, ok := cutDot(key)
		if !ok || agent == "" {
			b.add(Warning, prop.Loc, "", key, "property ignored: keys must start with the agent name and a dot (e.g. %s.sources)", b.name)
			continue
		}
		if agent != b.name {
			continue
		}
		if !b.anyProp || less(prop.Loc, b.firstLoc) {
			b.firstLoc = prop.Loc
		}
		b.anyProp = true
		if rest == "" {
			b.add(Warning, prop.Loc, "", key, "property ignored: nothing after the agent name")
			continue
		}
		val, err := b.r.expand(prop.Value)
		if err != nil {
			b.add(Error, prop.Loc, "", key, "%v", err)
			continue
		}
		val = strings.TrimSpace(val)
		if val == "" {
			// Flume ignores empty values; the example config relies on it
			// (bookmarkLog = ).
			continue
		}
		prop.Value = val
		if isTopLevel(rest) {
			b.lists[rest] = strings.Fields(val)
			b.listLoc[rest] = prop.Loc
			continue
		}
		plural, after, _ := cutDot(rest)
		comp, ckey, ok2 := cutDot(after)
		kind, known := kindByPlural[plural]
		switch {
		case plural == "configfilters" && comp != "" && ok2 && ckey != "":
			if b.filters[comp] == nil {
				b.filters[comp] = map[string]flume.Property{}
			}
			b.filters[comp][ckey] = prop
		case known && comp != "" && ok2 && ckey != "":
			m := b.comps[kind]
			if m == nil {
				m = map[string]map[string]flume.Property{}
				b.comps[kind] = m
			}
			if m[comp] == nil {
				m[comp] = map[string]flume.Property{}
			}
			m[comp][ckey] = prop
		case known:
			b.add(Warning, prop.Loc, "", key, "property ignored: expected %s%s.<name>.<key>", prefix, plural)
		default:
			b.add(Warning, prop.Loc, "", key, "property ignored: %q is not one of %s%s", plural, strings.Join(topLevel, ", "), didYouMean(plural, topLevel))
		}
	}
	for _, d := range b.p.dups {
		if strings.HasPrefix(d.key, prefix) {
			b.add(Warning, d.lost, "", d.key, "set again at line %d, which wins", d.won.Line)
		}
	}
}

func isTopLevel(s string) bool {
	for _, t := range topLevel {
		if s == t {
			return true
		}
	}
	return false
}

func less(a, b flume.Location) bool {
	if a.File != b.File {
		return a.File < b.File
	}
	return a.Line < b.Line
}

// declLoc is where a component is declared: its type line, else its first
// property.
func declLoc(props map[string]flume.Property, typeKey string) flume.Location {
	if p, ok := props[typeKey]; ok {
		return p.Loc
	}
	var loc flume.Location
	first := true
	for _, p := range props {
		if first || less(p.Loc, loc) {
			loc, first = p.Loc, false
		}
	}
	return loc
}

func (b *builder) assemble() *Agent {
	a := &Agent{Name: b.name}
	if !b.anyProp {
		others := b.p.Agents()
		msg := fmt.Sprintf("no configuration found for agent %q", b.name)
		if len(others) > 0 {
			msg += fmt.Sprintf(" (the file configures %s%s)", strings.Join(others, ", "), didYouMean(b.name, others))
		}
		b.add(Error, flume.Location{File: b.p.firstFile()}, "", "", "%s", msg)
		return a
	}
	// Declared components, listed and configured.
	named := map[flume.Kind][]string{}
	for plural, kind := range kindByPlural {
		listed := b.lists[plural]
		seen := map[string]bool{}
		for _, n := range listed {
			if seen[n] {
				b.add(Warning, b.listLoc[plural], describe(kind, n), "", "listed twice in %s.%s", b.name, plural)
				continue
			}
			seen[n] = true
			if _, ok := b.comps[kind][n]; !ok {
				b.add(Error, b.listLoc[plural], describe(kind, n), b.name+"."+plural, "listed in %s.%s but has no properties (expected %s.%s.%s.type)", b.name, plural, b.name, plural, n)
				continue
			}
			named[kind] = append(named[kind], n)
		}
		var unlisted []string
		for n := range b.comps[kind] {
			if !seen[n] {
				unlisted = append(unlisted, n)
			}
		}
		sort.Strings(unlisted)
		for _, n := range unlisted {
			props := b.comps[kind][n]
			loc := declLoc(props, "type")
			hint := ""
			if s := suggest(n, listed); s != "" {
				hint = fmt.Sprintf(" (did you mean %q?)", s)
			}
			key := "type"
			if _, ok := props["type"]; !ok {
				key = firstKey(props)
			}
			b.add(Error, loc, describe(kind, n), key, "configured but not listed in %s.%s%s; add it there or remove its properties", b.name, plural, hint)
		}
	}
	for f := range b.filters {
		if !contains(b.lists["configfilters"], f) {
			b.add(Warning, declLoc(b.filters[f], "type"), fmt.Sprintf("config filter %q", f), "", "configured but not listed in %s.configfilters", b.name)
		}
	}

	for _, n := range named[flume.KindChannel] {
		if c := b.component(flume.KindChannel, n); c != nil {
			a.Channels = append(a.Channels, c)
		}
	}
	channelNames := b.lists["channels"]
	validChannel := map[string]bool{}
	for _, n := range named[flume.KindChannel] {
		validChannel[n] = true
	}
	for _, n := range named[flume.KindSource] {
		c := b.component(flume.KindSource, n)
		if c == nil {
			continue
		}
		b.sourceWiring(c, channelNames, validChannel)
		a.Sources = append(a.Sources, c)
	}
	for _, n := range named[flume.KindSink] {
		c := b.component(flume.KindSink, n)
		if c == nil {
			continue
		}
		b.sinkWiring(c, channelNames, validChannel)
		a.Sinks = append(a.Sinks, c)
	}
	claimed := map[string]string{}
	for _, n := range named[KindSinkGroup] {
		props := b.comps[KindSinkGroup][n]
		c := &Component{Kind: KindSinkGroup, Name: n, Props: props, Loc: declLoc(props, "sinks")}
		b.groupWiring(c, a, claimed)
		a.SinkGroups = append(a.SinkGroups, c)
	}

	// Agent-level rules (Flume's AgentConfiguration.isValid).
	if len(named[flume.KindChannel]) == 0 && len(b.lists["channels"]) == 0 {
		b.add(Error, b.firstLoc, "", b.name+".channels", "the agent has no channels; list them in %s.channels", b.name)
	}
	if len(b.lists["sources"]) == 0 && len(b.lists["sinks"]) == 0 {
		b.add(Error, b.firstLoc, "", b.name+".sources", "the agent has neither sources nor sinks; list them in %s.sources and %s.sinks", b.name, b.name)
	}
	used := map[string]bool{}
	for _, s := range a.Sources {
		for _, ch := range s.Channels {
			used[ch] = true
		}
	}
	for _, s := range a.Sinks {
		used[s.Channel] = true
	}
	for _, c := range a.Channels {
		if !used[c.Name] {
			b.add(Warning, c.Loc, c.Describe(), "", "no source or sink uses this channel")
		}
	}
	b.checkBatches(a)
	return a
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// component builds the common part of a source, channel or sink: type,
// registry entry and unknown-key warnings. It returns nil when the component
// cannot be built at all.
func (b *builder) component(kind flume.Kind, name string) *Component {
	props := b.comps[kind][name]
	c := &Component{Kind: kind, Name: name, Props: props, Loc: declLoc(props, "type")}
	tp, ok := props["type"]
	if !ok {
		b.add(Error, c.Loc, c.Describe(), "type", "missing; set %s.%ss.%s.type", b.name, kind, name)
		return c
	}
	c.Type = tp.Value
	reg, ok := flume.Lookup(kind, tp.Value)
	if !ok {
		var names []string
		for _, r := range flume.Registered(kind) {
			names = append(names, r.Spec.Alias)
		}
		b.add(Error, tp.Loc, c.Describe(), "type", "unknown %s type %q%s%s", kind, tp.Value, didYouMean(tp.Value, names), knownList(names))
		return c
	}
	c.Reg = reg
	b.unknownKeys(c.Describe(), props, &reg.Spec, engineKeys[kind])
	return c
}

// unknownKeys warns about keys neither the engine nor the component's spec
// declares. A spec that declares no keys at all is not checked.
func (b *builder) unknownKeys(who string, props map[string]flume.Property, spec *flume.Spec, engine []string) {
	if spec == nil || len(spec.Keys) == 0 {
		return
	}
	candidates := make([]string, 0, len(spec.Keys)+len(engine))
	for _, k := range spec.Keys {
		candidates = append(candidates, strings.TrimSuffix(k.Name, "."))
	}
	for _, e := range engine {
		candidates = append(candidates, strings.TrimSuffix(e, "."))
	}
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if acceptsKey(engine, k) || spec.Accepts(k) {
			continue
		}
		b.add(Warning, props[k].Loc, who, k, "unknown key for type %q, ignored%s", spec.Alias, didYouMean(k, candidates))
	}
}

func acceptsKey(names []string, key string) bool {
	for _, n := range names {
		if n == key || (strings.HasSuffix(n, ".") && strings.HasPrefix(key, n)) {
			return true
		}
	}
	return false
}

func (b *builder) channelRef(c *Component, key string, loc flume.Location, ch string, listed []string, valid map[string]bool) bool {
	if valid[ch] {
		return true
	}
	if contains(listed, ch) {
		// Already reported as listed but not configured.
		return false
	}
	b.add(Error, loc, c.Describe(), key, "unknown channel %q%s (channels: %s)", ch, didYouMean(ch, listed), strings.Join(listed, ", "))
	return false
}

func (b *builder) sourceWiring(c *Component, listed []string, valid map[string]bool) {
	p, ok := c.Props["channels"]
	if !ok {
		b.add(Error, c.Loc, c.Describe(), "channels", "missing: a source must write to at least one channel; set %s.sources.%s.channels", b.name, c.Name)
	} else {
		seen := map[string]bool{}
		for _, ch := range strings.Fields(p.Value) {
			if seen[ch] {
				b.add(Warning, p.Loc, c.Describe(), "channels", "channel %q listed twice", ch)
				continue
			}
			seen[ch] = true
			if b.channelRef(c, "channels", p.Loc, ch, listed, valid) {
				c.Channels = append(c.Channels, ch)
			}
		}
	}
	ctx := c.Context()
	inc, err := ctx.Duration("backoffSleepIncrement", DefaultBackoff.Increment, time.Millisecond)
	b.probs = append(b.probs, AsProblems(Error, err, c.Describe(), c.Loc)...)
	mx, err := ctx.Duration("maxBackoffSleep", DefaultBackoff.Max, time.Millisecond)
	b.probs = append(b.probs, AsProblems(Error, err, c.Describe(), c.Loc)...)
	c.Backoff = Backoff{Increment: inc, Max: mx}
	c.Selector = b.selector(c)
	c.Interceptors = b.interceptors(c)
}

func (b *builder) sinkWiring(c *Component, listed []string, valid map[string]bool) {
	p, ok := c.Props["channel"]
	if !ok {
		hint := ""
		if _, plural := c.Props["channels"]; plural {
			hint = " (sinks use \"channel\", singular)"
		}
		b.add(Error, c.Loc, c.Describe(), "channel", "missing: a sink must read from one channel; set %s.sinks.%s.channel%s", b.name, c.Name, hint)
		return
	}
	names := strings.Fields(p.Value)
	if len(names) != 1 {
		b.add(Error, p.Loc, c.Describe(), "channel", "a sink reads exactly one channel, got %q", p.Value)
		return
	}
	if b.channelRef(c, "channel", p.Loc, names[0], listed, valid) {
		c.Channel = names[0]
	}
}

func (b *builder) interceptors(c *Component) []*Interceptor {
	p, ok := c.Props["interceptors"]
	if !ok {
		for k, v := range c.Props {
			if strings.HasPrefix(k, "interceptors.") {
				b.add(Error, v.Loc, c.Describe(), k, "interceptor configured but %s.sources.%s.interceptors is not set", b.name, c.Name)
			}
		}
		return nil
	}
	names := strings.Fields(p.Value)
	var out []*Interceptor
	configured := map[string]bool{}
	for _, n := range names {
		configured[n] = true
		props := map[string]flume.Property{}
		for k, v := range c.Props {
			if rest, ok := strings.CutPrefix(k, "interceptors."+n+"."); ok {
				props[rest] = v
			}
		}
		ic := &Interceptor{Name: n, Props: props, owner: c.Describe(), Loc: declLoc(props, "type")}
		who := fmt.Sprintf("interceptor %q of %s", n, c.Describe())
		tp, ok := props["type"]
		if !ok {
			b.add(Error, p.Loc, who, "interceptors."+n+".type", "missing")
			continue
		}
		ic.Type = tp.Value
		reg, ok := flume.Lookup(flume.KindInterceptor, tp.Value)
		if !ok {
			var names []string
			for _, r := range flume.Registered(flume.KindInterceptor) {
				names = append(names, r.Spec.Alias)
			}
			b.add(Error, tp.Loc, who, "interceptors."+n+".type", "unknown interceptor type %q%s%s", tp.Value, didYouMean(tp.Value, names), knownList(names))
			continue
		}
		ic.Reg = reg
		b.unknownKeys(who, props, &reg.Spec, engineKeys[flume.KindInterceptor])
		out = append(out, ic)
	}
	for k, v := range c.Props {
		if rest, ok := strings.CutPrefix(k, "interceptors."); ok {
			n, _, _ := cutDot(rest)
			if !configured[n] {
				b.add(Error, v.Loc, c.Describe(), k, "interceptor %q is configured but not listed in interceptors%s", n, didYouMean(n, names))
			}
		}
	}
	return out
}

// intProp parses an integer property, reporting a malformed one.
func (b *builder) intProp(who string, props map[string]flume.Property, key string, def int64) int64 {
	p, ok := props[key]
	if !ok {
		return def
	}
	v, err := strconv.ParseInt(strings.TrimSpace(p.Value), 10, 64)
	if err != nil {
		b.add(Error, p.Loc, who, key, "%q is not an integer", p.Value)
		return def
	}
	return v
}

// checkBatches refuses a source or sink whose batch is larger than the
// transactionCapacity of a channel it uses: every such transaction would
// fail (Flume 1.9+ removes the component; before that it looped forever).
// A key whose spec says ChannelChecked is skipped: that component checks it
// against the built channels' real limits, and one report is enough.
func (b *builder) checkBatches(a *Agent) {
	txCap := func(name string) (int64, flume.Location, bool) {
		ch := a.Channel(name)
		if ch == nil || ch.Reg == nil {
			return 0, flume.Location{}, false
		}
		if p, ok := ch.Props["transactionCapacity"]; ok {
			v, err := strconv.ParseInt(strings.TrimSpace(p.Value), 10, 64)
			return v, p.Loc, err == nil && v > 0
		}
		for _, k := range ch.Reg.Spec.Keys {
			if k.Name == "transactionCapacity" {
				v, err := strconv.ParseInt(k.Default, 10, 64)
				return v, ch.Loc, err == nil && v > 0
			}
		}
		return 0, flume.Location{}, false
	}
	check := func(c *Component, channels []string) {
		if c.Reg == nil {
			return
		}
		for _, key := range batchKeys {
			val, loc, set := "", c.Loc, false
			selfChecked := false
			for _, k := range c.Reg.Spec.Keys {
				if k.Name == key {
					val, selfChecked = k.Default, k.ChannelChecked
				}
			}
			if p, ok := c.Props[key]; ok {
				val, loc, set = p.Value, p.Loc, true
			}
			if val == "" || selfChecked {
				continue
			}
			n, err := strconv.ParseInt(strings.TrimSpace(val), 10, 64)
			if err != nil {
				continue // the factory reports a malformed number
			}
			for _, ch := range channels {
				tc, tcLoc, ok := txCap(ch)
				if !ok || n <= tc {
					continue
				}
				how := "is"
				if !set {
					how = "defaults to"
				}
				b.add(Error, loc, c.Describe(), key, "%s %d, more than the transactionCapacity %d of channel %q (%s); every transaction would fail: lower %s or raise that transactionCapacity", how, n, tc, ch, tcLoc, key)
			}
		}
	}
	for _, s := range a.Sources {
		check(s, s.Channels)
	}
	for _, s := range a.Sinks {
		if s.Channel != "" {
			check(s, []string{s.Channel})
		}
	}
}

// firstKey returns the key written first.
func firstKey(props map[string]flume.Property) string {
	best := ""
	for k, p := range props {
		if best == "" || less(p.Loc, props[best].Loc) {
			best = k
		}
	}
	return best
}

func knownList(names []string) string {
	if len(names) == 0 {
		return " (no type of this kind is registered)"
	}
	return " (known: " + strings.Join(names, ", ") + ")"
}
