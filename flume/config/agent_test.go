package config

import (
	"fmt"
	"strings"
	"testing"
)

const base = `a.sources = r1
a.channels = c1
a.sinks = k1
a.sources.r1.type = seq
a.sources.r1.channels = c1
a.channels.c1.type = memory
a.sinks.k1.type = null
a.sinks.k1.channel = c1
`

func check(t *testing.T, text string, env map[string]string) Problems {
	t.Helper()
	p, err := Parse("bad.properties", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	_, probs := p.Agent("a", Options{Env: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	return probs
}

// replaceLine swaps line n (1-based) of base.
func replaceLine(n int, with string) string {
	lines := strings.Split(base, "\n")
	lines[n-1] = with
	return strings.Join(lines, "\n")
}

func TestBaseIsValid(t *testing.T) {
	if probs := check(t, base, nil); len(probs) != 0 {
		t.Fatalf("problems: %v", probs)
	}
}

// TestBrokenConfigs: every broken configuration is refused with a message
// naming the file:line, the component and the key.
func TestBrokenConfigs(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []string // substrings of one error message
	}{
		{"unknown channel type", replaceLine(6, "a.channels.c1.type = memry"),
			[]string{"bad.properties:6", `channel "c1"`, `key "type"`, `unknown channel type "memry"`, `did you mean "memory"`}},
		{"unknown source class", replaceLine(4, "a.sources.r1.type = org.example.NoSuchSource"),
			[]string{"bad.properties:4", `source "r1"`, `key "type"`, "org.example.NoSuchSource"}},
		{"missing type", replaceLine(6, "a.channels.c1.capacity = 10"),
			[]string{"bad.properties:6", `channel "c1"`, `key "type"`, "missing"}},
		{"sink without channel", replaceLine(8, "a.sinks.k1.channels = c1"),
			[]string{"bad.properties:7", `sink "k1"`, `key "channel"`, "singular"}},
		{"sink unknown channel", replaceLine(8, "a.sinks.k1.channel = c2"),
			[]string{"bad.properties:8", `sink "k1"`, `key "channel"`, `unknown channel "c2"`, `did you mean "c1"`}},
		{"sink with two channels", replaceLine(8, "a.sinks.k1.channel = c1 c1"),
			[]string{"bad.properties:8", `sink "k1"`, `key "channel"`, "exactly one"}},
		{"source without channels", replaceLine(5, "a.sources.r1.batchSize = 1"),
			[]string{"bad.properties:4", `source "r1"`, `key "channels"`, "at least one channel"}},
		{"source unknown channel", replaceLine(5, "a.sources.r1.channels = c1 cx"),
			[]string{"bad.properties:5", `source "r1"`, `key "channels"`, `unknown channel "cx"`}},
		{"listed but not configured", replaceLine(1, "a.sources = r1 r2"),
			[]string{"bad.properties:1", `source "r2"`, `key "a.sources"`, "has no properties"}},
		{"configured but not listed", base + "a.sinks.k2.type = null\na.sinks.k2.channel = c1\n",
			[]string{"bad.properties:9", `sink "k2"`, `key "type"`, "not listed in a.sinks"}},
		{"sink batch above transactionCapacity", base + "a.sinks.k1.batchSize = 1000\n",
			[]string{"bad.properties:9", `sink "k1"`, `key "batchSize"`, "is 1000", "transactionCapacity 100", `channel "c1"`}},
		{"batch above configured transactionCapacity", base + "a.channels.c1.transactionCapacity = 10\na.sources.r1.batchSize = 50\n",
			[]string{"bad.properties:10", `source "r1"`, `key "batchSize"`, "transactionCapacity 10", "bad.properties:9"}},
		{"default maxBatch above transactionCapacity", replaceLine(4, "a.sources.r1.type = com.crankuptheamps.flume.AMPSFlumeSource") + "a.sources.r1.clientName = x\n",
			[]string{"bad.properties:4", `source "r1"`, `key "maxBatch"`, "defaults to 1000"}},
		{"file_roll sink.batchSize", replaceLine(7, "a.sinks.k1.type = file_roll") + "a.sinks.k1.sink.directory = /tmp\na.sinks.k1.sink.batchSize = 500\na.channels.c1.transactionCapacity = 200\n",
			[]string{"bad.properties:10", `sink "k1"`, `key "sink.batchSize"`, "transactionCapacity 200"}},
		{"malformed backoff", base + "a.sources.r1.maxBackoffSleep = 5s\n",
			[]string{"bad.properties:9", `source "r1"`, `key "maxBackoffSleep"`, `"5s"`}},
		{"unknown selector type", base + "a.sources.r1.selector.type = multiplex\n",
			[]string{"bad.properties:9", `source "r1"`, `key "selector.type"`, `did you mean "multiplexing"`}},
		{"multiplexing unknown channel", base + "a.sources.r1.selector.type = multiplexing\na.sources.r1.selector.mapping.US = c9\na.sources.r1.selector.default = c1\n",
			[]string{"bad.properties:10", `source "r1"`, `key "selector.mapping.US"`, `channel "c9"`}},
		{"multiplexing without mapping or default", base + "a.sources.r1.selector.type = multiplexing\n",
			[]string{"bad.properties:4", `source "r1"`, `key "selector.mapping"`}},
		{"replicating optional not a source channel", base + "a.sources.r1.selector.optional = c2\n",
			[]string{"bad.properties:9", `key "selector.optional"`, `channel "c2"`}},
		{"load_balancing policy", base + "a.sources.r1.selector.type = load_balancing\na.sources.r1.selector.policy = fastest\n",
			[]string{"bad.properties:10", `key "selector.policy"`, `"fastest"`}},
		{"interceptor without type", base + "a.sources.r1.interceptors = i1\na.sources.r1.interceptors.i1.key = k\n",
			[]string{"bad.properties:9", `interceptor "i1" of source "r1"`, `key "interceptors.i1.type"`, "missing"}},
		{"interceptor unknown type", base + "a.sources.r1.interceptors = i1\na.sources.r1.interceptors.i1.type = statik\n",
			[]string{"bad.properties:10", `interceptor "i1"`, `key "interceptors.i1.type"`, `did you mean "static"`}},
		{"interceptor not listed", base + "a.sources.r1.interceptors = i1\na.sources.r1.interceptors.i1.type = static\na.sources.r1.interceptors.i2.type = static\n",
			[]string{"bad.properties:11", `source "r1"`, `key "interceptors.i2.type"`, "not listed"}},
		{"group unknown sink", base + "a.sinkgroups = g1\na.sinkgroups.g1.sinks = k1 k9\n",
			[]string{"bad.properties:10", `sink group "g1"`, `key "sinks"`, `unknown sink "k9"`}},
		{"sink in two groups", replaceLine(3, "a.sinks = k1 k2") + "a.sinks.k2.type = null\na.sinks.k2.channel = c1\na.sinkgroups = g1 g2\na.sinkgroups.g1.sinks = k1 k2\na.sinkgroups.g1.processor.type = failover\na.sinkgroups.g2.sinks = k1\n",
			[]string{"bad.properties:14", `sink group "g2"`, `key "sinks"`, `already belongs to sink group "g1"`}},
		{"failover bad priority", base + "a.sinkgroups = g1\na.sinkgroups.g1.sinks = k1\na.sinkgroups.g1.processor.type = failover\na.sinkgroups.g1.processor.priority.k1 = high\n",
			[]string{"bad.properties:12", `sink group "g1"`, `key "processor.priority.k1"`, "not an integer"}},
		{"failover bad maxpenalty", base + "a.sinkgroups = g1\na.sinkgroups.g1.sinks = k1\na.sinkgroups.g1.processor.type = failover\na.sinkgroups.g1.processor.maxpenalty = 1e3\n",
			[]string{"bad.properties:12", `key "processor.maxpenalty"`}},
		{"load_balance one sink", base + "a.sinkgroups = g1\na.sinkgroups.g1.sinks = k1\na.sinkgroups.g1.processor.type = load_balance\n",
			[]string{"bad.properties:10", `sink group "g1"`, `key "sinks"`, "at least 2"}},
		{"unknown processor", base + "a.sinkgroups = g1\na.sinkgroups.g1.sinks = k1\na.sinkgroups.g1.processor.type = failovr\n",
			[]string{"bad.properties:11", `key "processor.type"`, `did you mean "failover"`}},
		{"load_balance bad backoff", replaceLine(3, "a.sinks = k1 k2") + "a.sinks.k2.type = null\na.sinks.k2.channel = c1\na.sinkgroups = g1\na.sinkgroups.g1.sinks = k1 k2\na.sinkgroups.g1.processor.type = load_balance\na.sinkgroups.g1.processor.backoff = yes\n",
			[]string{"bad.properties:14", `key "processor.backoff"`, `"yes"`}},
		{"no channels", "a.sources = r1\na.sources.r1.type = seq\n",
			[]string{"bad.properties:1", `key "a.channels"`, "no channels"}},
		{"neither sources nor sinks", "a.channels = c1\na.channels.c1.type = memory\n",
			[]string{"bad.properties:1", `key "a.sources"`, "neither sources nor sinks"}},
		{"undefined env var", replaceLine(7, "a.sinks.k1.type = ${env:SINK_TYPE}"),
			[]string{"bad.properties:7", `key "a.sinks.k1.type"`, "${env:SINK_TYPE} is not defined"}},
		{"wrong agent name", strings.ReplaceAll(base, "a.", "agent1."),
			[]string{"bad.properties", `no configuration found for agent "a"`, "agent1"}},
	}
	if len(tests) < 20 {
		t.Fatal("the table must hold at least 20 broken configurations")
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			probs := check(t, tc.text, nil)
			if !probs.HasErrors() {
				t.Fatalf("no error; problems: %v", probs)
			}
			for _, p := range probs.Errors() {
				msg := p.String()
				ok := true
				for _, w := range tc.want {
					if !strings.Contains(msg, w) {
						ok = false
					}
				}
				if ok {
					return
				}
			}
			t.Fatalf("no error contains all of %q; got:\n%s", tc.want, list(probs))
		})
	}
}

func list(ps Problems) string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "  %s\n", p)
	}
	return b.String()
}

func TestWarnings(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []string
	}{
		{"unknown key with suggestion", base + "a.channels.c1.capasity = 10\n",
			[]string{"WARN", "bad.properties:9", `channel "c1"`, `key "capasity"`, `did you mean "capacity"`}},
		{"engine key typo", base + "a.sources.r1.chanels = c1\n",
			[]string{"WARN", "bad.properties:9", `key "chanels"`, `did you mean "channels"`}},
		{"multiplexing without default drops", base + "a.sources.r1.selector.type = multiplexing\na.sources.r1.selector.mapping.US = c1\n",
			[]string{"WARN", "bad.properties:4", `key "selector.default"`, "dropped"}},
		{"unused channel", replaceLine(2, "a.channels = c1 c2") + "a.channels.c2.type = memory\n",
			[]string{"WARN", "bad.properties:9", `channel "c2"`, "no source or sink"}},
		{"no agent prefix", "nodot = 1\n" + base,
			[]string{"WARN", "bad.properties:1", `key "nodot"`}},
		{"not a component kind", base + "a.source.r1.type = seq\n",
			[]string{"WARN", "bad.properties:9", `did you mean "sources"`}},
		{"duplicate key", base + "a.sinks.k1.channel = c1\n",
			[]string{"WARN", "bad.properties:8", `key "a.sinks.k1.channel"`, "line 9"}},
		{"interceptor key typo", base + "a.sources.r1.interceptors = i1\na.sources.r1.interceptors.i1.type = static\na.sources.r1.interceptors.i1.vaule = x\n",
			[]string{"WARN", "bad.properties:11", `key "vaule"`, `did you mean "value"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			probs := check(t, tc.text, nil)
			if probs.HasErrors() {
				t.Fatalf("unexpected errors:\n%s", list(probs))
			}
			for _, p := range probs {
				msg := p.String()
				ok := true
				for _, w := range tc.want {
					if !strings.Contains(msg, w) {
						ok = false
					}
				}
				if ok {
					return
				}
			}
			t.Fatalf("no warning contains all of %q; got:\n%s", tc.want, list(probs))
		})
	}
}

// TestAllProblemsAtOnce: unlike Flume, which drops components one log line
// at a time, every problem of the file is reported together.
func TestAllProblemsAtOnce(t *testing.T) {
	text := `a.sources = r1 r2
a.channels = c1
a.sinks = k1 k2
a.sources.r1.type = seq
a.sources.r1.channels = c2
a.sources.r2.type = nosuch
a.sources.r2.channels = c1
a.channels.c1.type = memory
a.sinks.k1.type = null
a.sinks.k2.type = null
a.sinks.k2.channel = c1
a.sinks.k2.batchSize = 101
`
	errs := check(t, text, nil).Errors()
	want := []string{"bad.properties:5", "bad.properties:6", "bad.properties:9", "bad.properties:12"}
	if len(errs) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%s", len(errs), len(want), list(errs))
	}
	for i, w := range want {
		if !strings.HasPrefix(errs[i].Err.Error(), w+":") {
			t.Errorf("error %d = %q, want it at %s", i, errs[i].Err, w)
		}
	}
	err := errs.Err()
	if err == nil || !strings.Contains(err.Error(), "4 configuration error(s)") {
		t.Fatalf("Err() = %v", err)
	}
}

// Behaviours of Flume's TestAgentConfiguration and TestFlumeConfiguration.
func TestFlumeAgentConfigurationRules(t *testing.T) {
	t.Run("sources only is valid", func(t *testing.T) {
		probs := check(t, "a.sources = r1\na.channels = c1\na.sources.r1.type = seq\na.sources.r1.channels = c1\na.channels.c1.type = memory\n", nil)
		if probs.HasErrors() {
			t.Fatal(list(probs))
		}
	})
	t.Run("sinks only is valid", func(t *testing.T) {
		probs := check(t, "a.sinks = k1\na.channels = c1\na.sinks.k1.type = null\na.sinks.k1.channel = c1\na.channels.c1.type = memory\n", nil)
		if probs.HasErrors() {
			t.Fatal(list(probs))
		}
	})
	t.Run("keys map to components", func(t *testing.T) {
		p, err := Parse("x", []byte(base+"a.sinks.k1.some.dotted.key = v\nother.sources = z\n"))
		if err != nil {
			t.Fatal(err)
		}
		a, probs := p.Agent("a", Options{})
		if probs.HasErrors() {
			t.Fatal(list(probs))
		}
		k := a.Sink("k1")
		if k == nil || k.Props["some.dotted.key"].Value != "v" || k.Type != "null" {
			t.Fatalf("sink k1 = %+v", k)
		}
		if len(a.Sources) != 1 || a.Sources[0].Name != "r1" || len(a.Channels) != 1 {
			t.Fatalf("agent = %+v", a)
		}
	})
	t.Run("empty values are ignored", func(t *testing.T) {
		probs := check(t, base+"a.sinks.k1.batchSize =\n", nil)
		if len(probs) != 0 {
			t.Fatal(list(probs))
		}
	})
	t.Run("alias is case-insensitive", func(t *testing.T) {
		probs := check(t, replaceLine(6, "a.channels.c1.type = MEMORY"), nil)
		if probs.HasErrors() {
			t.Fatal(list(probs))
		}
	})
	t.Run("multiple agents in one file", func(t *testing.T) {
		text := base + strings.ReplaceAll(base, "a.", "b.")
		p, _ := Parse("x", []byte(text))
		if got := p.Agents(); strings.Join(got, ",") != "a,b" {
			t.Fatalf("agents = %v", got)
		}
		_, probs := p.Agent("b", Options{})
		if len(probs) != 0 {
			t.Fatal(list(probs))
		}
	})
}

func TestSelectorAndProcessorModel(t *testing.T) {
	text := replaceLine(2, "a.channels = c1 c2 c3") + `a.channels.c2.type = memory
a.channels.c3.type = memory
a.sources.r1.channels = c1 c2 c3
a.sources.r1.selector.type = multiplexing
a.sources.r1.selector.header = state
a.sources.r1.selector.mapping.CA = c1
a.sources.r1.selector.mapping.NY = c2 c3
a.sources.r1.selector.optional.CA = c1 c3
a.sources.r1.selector.default = c3
a.sinks = k1 k2
a.sinks.k2.type = null
a.sinks.k2.channel = c2
a.sinkgroups = g
a.sinkgroups.g.sinks = k1 k2
a.sinkgroups.g.processor.type = failover
a.sinkgroups.g.processor.priority.k1 = 5
a.sinkgroups.g.processor.priority.k2 = 10
a.sinkgroups.g.processor.maxpenalty = 2000
`
	text = strings.Replace(text, "a.sinks = k1\n", "", 1)
	p, _ := Parse("x", []byte(text))
	a, probs := p.Agent("a", Options{})
	if probs.HasErrors() {
		t.Fatal(list(probs))
	}
	sel := a.Sources[0].Selector
	if sel.Type != SelectorMultiplexing || sel.Header != "state" || !sel.HasDefault {
		t.Fatalf("selector = %+v", sel)
	}
	if fmt.Sprint(sel.Mapping["NY"]) != "[c2 c3]" || fmt.Sprint(sel.OptionalFor["CA"]) != "[c3]" || fmt.Sprint(sel.Default) != "[c3]" {
		t.Fatalf("selector = %+v", sel)
	}
	g := a.SinkGroups[0]
	if g.Processor.Type != ProcessorFailover || g.Processor.Priority["k2"] != 10 || g.Processor.MaxPenalty.Milliseconds() != 2000 {
		t.Fatalf("processor = %+v", g.Processor)
	}
}

func TestSubstitution(t *testing.T) {
	env := map[string]string{"CAP": "500", "DIR": "/data", "NESTED": "${env:CAP}"}
	tests := []struct {
		value, want string
	}{
		{"${env:CAP}", "500"},
		{"x${env:CAP}y${env:CAP}", "x500y500"},
		{"${env:MISSING:-7}", "7"},
		{"${sys:flume.x}", "from-D"},
		{"${CAP}", "500"},
		{"${a.channels.c1.type}", "memory"},
		{"$${env:CAP}", "${env:CAP}"},
		{"${f['DIR']}/x", "/data/x"},
		{"${NESTED}", "${env:CAP}"},
	}
	for _, tc := range tests {
		text := base + "a.configfilters = f\na.configfilters.f.type = env\na.channels.c1.note = " + tc.value + "\n"
		p, err := Parse("x", []byte(text))
		if err != nil {
			t.Fatal(err)
		}
		a, probs := p.Agent("a", Options{Env: func(k string) (string, bool) { v, ok := env[k]; return v, ok }, Sys: map[string]string{"flume.x": "from-D"}})
		if probs.HasErrors() {
			t.Fatalf("%s: %s", tc.value, list(probs))
		}
		if got := a.Channels[0].Props["note"].Value; got != tc.want {
			t.Errorf("%s = %q, want %q", tc.value, got, tc.want)
		}
	}
	for _, bad := range []string{"${env:NOPE}", "${x", "${date:yyyy}", "${g['K']}", "${a.channels.c1.loop}"} {
		text := base + "a.channels.c1.loop = ${a.channels.c1.loop}\na.channels.c1.note = " + bad + "\n"
		probs := check(t, text, env)
		if !probs.HasErrors() {
			t.Errorf("%s: no error", bad)
		}
	}
}
