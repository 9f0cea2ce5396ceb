package config

import (
	"strings"
	"testing"

	"ampsflume/flume"
)

// TestBuiltinKeyWarnings: selector and processor keys are checked against
// their specs, with suggestions drawn from the spec.
func TestBuiltinKeyWarnings(t *testing.T) {
	group := replaceLine(3, "a.sinks = k1 k2") + "a.sinks.k2.type = null\na.sinks.k2.channel = c1\na.sinkgroups = g\na.sinkgroups.g.sinks = k1 k2\n"
	tests := []struct {
		name string
		text string
		want []string
	}{
		{"replicating typo", base + "a.sources.r1.selector.optinal = c1\n",
			[]string{"WARN", "bad.properties:9", `key "selector.optinal"`, "replicating selector", `did you mean "optional"`}},
		{"multiplexing typo", base + "a.sources.r1.selector.type = multiplexing\na.sources.r1.selector.default = c1\na.sources.r1.selector.mappings.US = c1\n",
			[]string{"WARN", "bad.properties:11", `key "selector.mappings.US"`, "multiplexing selector"}},
		{"load_balancing typo", base + "a.sources.r1.selector.type = load_balancing\na.sources.r1.selector.polcy = random\n",
			[]string{"WARN", "bad.properties:10", `key "selector.polcy"`, `did you mean "policy"`}},
		{"failover typo", group + "a.sinkgroups.g.processor.type = failover\na.sinkgroups.g.processor.maxpenality = 100\n",
			[]string{"WARN", "bad.properties:14", `sink group "g"`, `key "processor.maxpenality"`, "failover processor", `did you mean "maxpenalty"`}},
		{"failover bare priority", group + "a.sinkgroups.g.processor.type = failover\na.sinkgroups.g.processor.priority = 1\n",
			[]string{"WARN", "bad.properties:14", `key "processor.priority"`}},
		{"load_balance typo", group + "a.sinkgroups.g.processor.type = load_balance\na.sinkgroups.g.processor.backof = true\n",
			[]string{"WARN", "bad.properties:14", `key "processor.backof"`, `did you mean "backoff"`}},
		{"default processor key", replaceLine(3, "a.sinks = k1") + "a.sinkgroups = g\na.sinkgroups.g.sinks = k1\na.sinkgroups.g.processor.priority.k1 = 3\n",
			[]string{"WARN", "bad.properties:11", `key "processor.priority.k1"`, "default processor"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			probs := check(t, tc.text, nil)
			for _, p := range probs {
				ok := true
				for _, w := range tc.want {
					ok = ok && strings.Contains(p.String(), w)
				}
				if ok {
					return
				}
			}
			t.Fatalf("no problem contains all of %q; got:\n%s", tc.want, list(probs))
		})
	}
}

// TestBuiltinKeysAccepted: every key a spec declares is read without a
// warning.
func TestBuiltinKeysAccepted(t *testing.T) {
	group := replaceLine(3, "a.sinks = k1 k2") + "a.sinks.k2.type = null\na.sinks.k2.channel = c1\na.sinkgroups = g\na.sinkgroups.g.sinks = k1 k2\n"
	for _, text := range []string{
		base + "a.sources.r1.selector.type = replicating\na.sources.r1.selector.optional = c1\n",
		base + "a.sources.r1.selector.type = multiplexing\na.sources.r1.selector.header = h\na.sources.r1.selector.default = c1\na.sources.r1.selector.mapping.US = c1\na.sources.r1.selector.optional.CA = c1\n",
		base + "a.sources.r1.selector.type = org.apache.flume.channel.LoadBalancingChannelSelector\na.sources.r1.selector.policy = random\n",
		group + "a.sinkgroups.g.processor.type = failover\na.sinkgroups.g.processor.priority.k1 = 1\na.sinkgroups.g.processor.priority.k2 = 2\na.sinkgroups.g.processor.maxpenalty = 100\n",
		group + "a.sinkgroups.g.processor.type = load_balance\na.sinkgroups.g.processor.selector = random\na.sinkgroups.g.processor.backoff = true\na.sinkgroups.g.processor.selector.maxTimeOut = 100\n",
	} {
		if probs := check(t, text, nil); len(probs) != 0 {
			t.Errorf("%s\nproblems:\n%s", text, list(probs))
		}
	}
}

// TestBuiltinSpecs: every type the parser accepts has a documented spec, and
// the other way round.
func TestBuiltinSpecs(t *testing.T) {
	for kind, types := range map[flume.Kind]map[string]string{KindSelector: selectorTypes, KindSinkProcessor: processorTypes} {
		for name, canonical := range types {
			s, ok := LookupBuiltin(kind, name)
			if !ok || s.Alias != canonical {
				t.Errorf("%s %q: spec %+v, %v", kind, name, s, ok)
			}
		}
		var specs []flume.Spec
		if kind == KindSelector {
			specs = SelectorSpecs()
		} else {
			specs = SinkProcessorSpecs()
		}
		for _, s := range specs {
			if _, ok := types[s.Alias]; !ok {
				t.Errorf("%s %q has a spec but the parser does not accept it", kind, s.Alias)
			}
			if _, ok := types[strings.ToLower(s.Class)]; !ok {
				t.Errorf("%s class %q is not accepted", kind, s.Class)
			}
			if s.Kind != kind || s.Doc == "" || !s.Accepts("type") {
				t.Errorf("%s %q: kind %q, doc %q", kind, s.Alias, s.Kind, s.Doc)
			}
			for _, k := range s.Keys {
				if k.Type == "" || k.Doc == "" {
					t.Errorf("%s %q key %q lacks a type or doc", kind, s.Alias, k.Name)
				}
			}
		}
	}
	if _, ok := LookupBuiltin(KindSelector, "failover"); ok {
		t.Error("a processor found as a selector")
	}
	for _, kind := range []flume.Kind{flume.KindSource, flume.KindChannel, flume.KindSink, flume.KindInterceptor, KindSinkGroup} {
		keys := CommonKeys(kind)
		if len(keys) == 0 {
			t.Errorf("no common keys for %s", kind)
		}
		for _, k := range keys {
			if k.Type == "" || k.Doc == "" {
				t.Errorf("%s common key %q lacks a type or doc", kind, k.Name)
			}
		}
	}
	// Callers get copies: changing one does not change the declarations.
	SelectorSpecs()[0].Keys[0].Name = "changed"
	if SelectorSpecs()[0].Keys[0].Name == "changed" {
		t.Error("SelectorSpecs returns shared keys")
	}
}
