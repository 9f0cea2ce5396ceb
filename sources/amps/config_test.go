package amps

import (
	"errors"
	"strings"
	"testing"
	"time"

	"ampsflume/flume"
)

func ctxAt(kv map[string]string) *flume.Context {
	props := map[string]flume.Property{}
	line := 10
	for k, v := range kv {
		props[k] = flume.Property{Value: v, Loc: flume.Location{File: "agent.conf", Line: line}}
		line++
	}
	return flume.NewContext(`source "amps"`, flume.Location{File: "agent.conf", Line: 1}, props)
}

func base(extra map[string]string) map[string]string {
	kv := map[string]string{"clientName": "FlumeClient", "uri": "tcp://127.0.0.1:9007/amps/json", "topic": "Orders"}
	for k, v := range extra {
		if v == "<unset>" {
			delete(kv, k)
			continue
		}
		kv[k] = v
	}
	return kv
}

func TestConfigDefaults(t *testing.T) {
	cfg, err := ParseConfig(ctxAt(base(nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		ClientFactory: DefaultClientFactory, ClientName: "FlumeClient",
		URIs: []string{"tcp://127.0.0.1:9007/amps/json"}, Command: "subscribe", Topic: "Orders",
		CmdTypeFilter: 32841, MaxBuffers: 10, MaxBatch: 1000, PruneThreshold: 300 * time.Second,
		PubStoreCap: 1000,
	}
	if cfg.String() != want.String() || cfg.ClientFactory != want.ClientFactory || cfg.CmdTypeFilter != want.CmdTypeFilter ||
		cfg.MaxBuffers != want.MaxBuffers || cfg.MaxBatch != want.MaxBatch || cfg.PruneThreshold != want.PruneThreshold ||
		cfg.PubStoreCap != want.PubStoreCap || cfg.BookmarkLog != "" || cfg.EventHeaders != nil {
		t.Fatalf("defaults = %+v\nwant %+v", cfg, want)
	}
	// Every default in the spec is what ParseConfig uses.
	for _, k := range Spec.Keys {
		if k.Default == "" || k.Name == "clientFactoryClass" || k.Name == "command" || k.Name == "pubStoreType" {
			continue
		}
		c, err := ParseConfig(ctxAt(base(map[string]string{k.Name: k.Default})), nil)
		if err != nil {
			t.Fatalf("spec default %s=%s: %v", k.Name, k.Default, err)
		}
		if c.CmdTypeFilter != cfg.CmdTypeFilter || c.MaxBatch != cfg.MaxBatch || c.MaxBuffers != cfg.MaxBuffers || c.PruneThreshold != cfg.PruneThreshold {
			t.Fatalf("spec default %s=%s differs from the built-in default", k.Name, k.Default)
		}
	}
}

func TestConfigExample(t *testing.T) {
	// The article's source, with its empty bookmarkLog.
	cfg, err := ParseConfig(ctxAt(map[string]string{
		"clientName": "FlumeClient", "bookmarkLog": "",
		"uri1": "tcp://127.0.0.1:9007/amps/json", "uri2": "tcp://127.0.0.1:9007/amps/json",
		"command": "sow_and_subscribe", "topic": "Orders", "filter": "/symbol IN ('IBM', 'MSFT')",
		"options":       "projection=[/symbol,avg(/price) as /avg_price,avg(/price*/qty) as /avg_total],grouping=[/symbol],conflation=1s",
		"cmdTypeFilter": "9", "maxBuffers": "10", "maxBatch": "1000", "pruneTimeThreshold": "300000",
		"eventHeaders": "topic,timestamp",
	}), []flume.ChannelInfo{{Name: "mem1", TransactionCapacity: 1000}, {Name: "mem2", TransactionCapacity: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.URIs) != 2 || cfg.BookmarkLog != "" || cfg.CmdTypeFilter != 9 || strings.Join(cfg.EventHeaders, ",") != "topic,timestamp" || cfg.Command != "sow_and_subscribe" {
		t.Fatalf("parsed %+v", cfg)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name     string
		kv       map[string]string
		channels []flume.ChannelInfo
		key      string
		msg      string
	}{
		{"clientName missing", map[string]string{"clientName": "<unset>"}, nil, "clientName", "is required"},
		{"clientName empty", map[string]string{"clientName": "  "}, nil, "clientName", "is required"},
		{"topic missing", map[string]string{"topic": "<unset>"}, nil, "topic", "is required"},
		{"no uri", map[string]string{"uri": "<unset>"}, nil, "uri", "is required"},
		{"uri gap", map[string]string{"uri1": "tcp://a:1/amps", "uri3": "tcp://c:1/amps"}, nil, "uri2", "missing"},
		{"uri gap at start", map[string]string{"uri2": "tcp://a:1/amps"}, nil, "uri1", "missing"},
		{"uri zero", map[string]string{"uri0": "tcp://a:1/amps"}, nil, "uri0", "numbered"},
		{"not a uri", map[string]string{"uri": "localhost:9007"}, nil, "uri", "not a URI"},
		{"bad command", map[string]string{"command": "publish"}, nil, "command", "unsupported command"},
		{"bookmark without subscriptionId", map[string]string{"bookmarkLog": "/tmp/x.log"}, nil, "subscriptionId", "must be set when using a bookmark subscription"},
		{"bookmark with delta", map[string]string{"bookmarkLog": "/tmp/x.log", "subscriptionId": "s", "command": "delta_subscribe"}, nil, "command", "cannot be a bookmark subscription"},
		{"maxBatch not a number", map[string]string{"maxBatch": "lots"}, nil, "maxBatch", "not an integer"},
		{"maxBatch zero", map[string]string{"maxBatch": "0"}, nil, "maxBatch", "out of range"},
		{"maxBuffers zero", map[string]string{"maxBuffers": "0"}, nil, "maxBuffers", "out of range"},
		{"maxBatch over transactionCapacity", map[string]string{"maxBatch": "1000"},
			[]flume.ChannelInfo{{Name: "big", TransactionCapacity: 5000}, {Name: "small", TransactionCapacity: 100}}, "maxBatch", `transactionCapacity 100 of channel "small"`},
		{"negative prune", map[string]string{"pruneTimeThreshold": "-1"}, nil, "pruneTimeThreshold", "non-negative"},
		{"bad header", map[string]string{"eventHeaders": "topic, currTimestamp,nope"}, nil, "eventHeaders", "invalid event header key(s): [currTimestamp, nope]"},
		{"cmdTypeFilter text", map[string]string{"cmdTypeFilter": "publish"}, nil, "cmdTypeFilter", "not an integer"},
		{"file pub store without path", map[string]string{"pubStoreType": "file"}, nil, "pubStorePath", "must be specified"},
		{"bad pub store", map[string]string{"pubStoreType": "disk"}, nil, "pubStoreType", "not none, memory or file"},
		{"bad backoff", map[string]string{"maxBackoffSleep": "soon"}, nil, "maxBackoffSleep", "non-negative"},
		{"exactlyOnce without bookmarkLog", map[string]string{"exactlyOnce": "true"}, nil, "exactlyOnce", "needs bookmarkLog"},
		{"exactlyOnce with sow_and_subscribe", map[string]string{"exactlyOnce": "true", "bookmarkLog": "/tmp/x.log", "subscriptionId": "s", "command": "sow_and_subscribe"}, nil, "exactlyOnce", "needs command subscribe"},
		{"exactlyOnce not a bool", map[string]string{"exactlyOnce": "yes"}, nil, "exactlyOnce", "not true or false"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig(ctxAt(base(tc.kv)), tc.channels)
			var ce *flume.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a *flume.ConfigError", err)
			}
			if ce.Key != tc.key || !strings.Contains(ce.Msg, tc.msg) {
				t.Fatalf("err = %v; want key %q and %q", err, tc.key, tc.msg)
			}
			if ce.Loc.File != "agent.conf" || ce.Loc.Line == 0 {
				t.Fatalf("err %v does not name the file and line", err)
			}
		})
	}
}

func TestConfigExactlyOnce(t *testing.T) {
	bm := map[string]string{"bookmarkLog": "/tmp/x.log", "subscriptionId": "s"}
	for _, tc := range []struct {
		kv   map[string]string
		want string
	}{
		{nil, ""},
		{map[string]string{"exactlyOnce": "false"}, ""},
		{map[string]string{"exactlyOnce": ""}, ""},
		{map[string]string{"exactlyOnce": "true"}, DefaultExactlyOnceHeader},
		{map[string]string{"exactlyOnce": "TRUE", "exactlyOnce.header": " bm "}, "bm"},
		{map[string]string{"exactlyOnce.header": "bm"}, ""}, // the header alone does not turn the mode on
	} {
		kv := base(bm)
		for k, v := range tc.kv {
			kv[k] = v
		}
		cfg, err := ParseConfig(ctxAt(kv), nil)
		if err != nil {
			t.Fatalf("%v: %v", tc.kv, err)
		}
		if cfg.BookmarkHeader != tc.want {
			t.Fatalf("%v: BookmarkHeader = %q, want %q", tc.kv, cfg.BookmarkHeader, tc.want)
		}
	}
}

func TestConfigURIs(t *testing.T) {
	cfg, err := ParseConfig(ctxAt(base(map[string]string{"uri1": "tcp://a:1/amps/json", "uri2": "tcp://b:2/amps/json", "uri3": "tcp://c:3/amps/json"})), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cfg.URIs, " "); got != "tcp://a:1/amps/json tcp://b:2/amps/json tcp://c:3/amps/json" {
		t.Fatalf("URIs = %s (uri1.. take precedence over uri)", got)
	}
}

func TestSpec(t *testing.T) {
	r, ok := flume.Lookup(flume.KindSource, Class)
	if !ok || r.Spec.Alias != Alias {
		t.Fatalf("not registered under %s", Class)
	}
	if r2, ok := flume.Lookup(flume.KindSource, "AMPS"); !ok || r2 != r {
		t.Fatal("not registered under the alias")
	}
	for _, k := range []string{"clientFactoryClass", "clientName", "bookmarkLog", "uri", "uri1", "uri12", "command", "topic", "filter",
		"options", "subscriptionId", "cmdTypeFilter", "maxBuffers", "maxBatch", "pruneTimeThreshold", "eventHeaders",
		"backoffSleepIncrement", "maxBackoffSleep", "pubStoreType", "pubStoreInitialCap", "pubStorePath",
		"exactlyOnce", "exactlyOnce.header"} {
		if !Spec.Accepts(k) {
			t.Errorf("spec does not declare %q", k)
		}
	}
	for _, k := range []string{"urix", "uri", "topics"} {
		if k != "uri" && Spec.Accepts(k) {
			t.Errorf("spec accepts unknown key %q", k)
		}
	}
	for _, k := range Spec.Keys {
		if k.Doc == "" || k.Type == "" {
			t.Errorf("key %s lacks a type or doc", k.Name)
		}
	}
}

func TestUnknownFactory(t *testing.T) {
	_, err := New(flume.SourceEnv{Name: "amps", Config: ctxAt(base(map[string]string{"clientFactoryClass": "com.example.Nope"}))})
	var ce *flume.ConfigError
	if !errors.As(err, &ce) || ce.Key != "clientFactoryClass" {
		t.Fatalf("err = %v", err)
	}
}

// configErrorKeys returns the keys of every *flume.ConfigError joined in err.
func configErrorKeys(t *testing.T, err error) []string {
	t.Helper()
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else if err != nil {
		errs = []error{err}
	}
	var keys []string
	for _, e := range errs {
		var ce *flume.ConfigError
		if !errors.As(e, &ce) {
			t.Fatalf("%v is not a *flume.ConfigError", e)
		}
		keys = append(keys, ce.Key)
	}
	return keys
}

// TestConfigEveryError: every bad key is reported in one run, each once.
func TestConfigEveryError(t *testing.T) {
	for _, tc := range []struct {
		name     string
		kv       map[string]string
		channels []flume.ChannelInfo
		want     []string
	}{
		{"unrelated keys", map[string]string{"clientName": "<unset>", "maxBatch": "lots", "maxBuffers": "0", "eventHeaders": "nope", "pubStoreType": "disk", "maxBackoffSleep": "soon"}, nil,
			[]string{"clientName", "maxBuffers", "maxBatch", "eventHeaders", "pubStoreType", "maxBackoffSleep"}},
		{"uris", map[string]string{"uri": "<unset>", "uri0": "tcp://a:1/amps", "uri1": "a:1", "uri3": "tcp://c:1/amps"}, nil,
			[]string{"uri0", "uri1", "uri2"}},
		{"bad maxBatch is not compared with the channels", map[string]string{"maxBatch": "lots"},
			[]flume.ChannelInfo{{Name: "small", TransactionCapacity: 100}}, []string{"maxBatch"}},
		{"default maxBatch over two channels", nil,
			[]flume.ChannelInfo{{Name: "a", TransactionCapacity: 100}, {Name: "b", TransactionCapacity: 10}}, []string{"maxBatch", "maxBatch"}},
		{"bookmark keys", map[string]string{"bookmarkLog": "/tmp/x.log", "command": "sow", "topic": "<unset>"}, nil,
			[]string{"topic", "subscriptionId", "command"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig(ctxAt(base(tc.kv)), tc.channels)
			got := configErrorKeys(t, err)
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Fatalf("keys = %q, want %q\n%v", got, tc.want, err)
			}
		})
	}
	_, err := ParseConfig(ctxAt(base(nil)), []flume.ChannelInfo{{Name: "mem", TransactionCapacity: 100}})
	if err == nil || !strings.Contains(err.Error(), `key "maxBatch": defaults to 1000, more than the transactionCapacity 100 of channel "mem"`) {
		t.Fatalf("default maxBatch: %v", err)
	}
}

func TestMaxBacklog(t *testing.T) {
	for _, tc := range []struct {
		name    string
		kv      map[string]string
		backlog int
		options string
		err     string
	}{
		{"subscribe asks for a batch", map[string]string{"maxBatch": "50"}, 50, "max_backlog=50", ""},
		{"kept options", map[string]string{"options": "oof", "maxBatch": "7"}, 7, "oof,max_backlog=7", ""},
		{"explicit", map[string]string{"options": "max_backlog=3"}, 3, "max_backlog=3", ""},
		{"the whole buffer", map[string]string{"options": "oof, max_backlog=20", "maxBatch": "10", "maxBuffers": "2"}, 20, "oof, max_backlog=20", ""},
		{"more than the buffer", map[string]string{"options": "max_backlog=21", "maxBatch": "10", "maxBuffers": "2"}, 0, "", "max_backlog=21 is more than the source buffers (maxBuffers × maxBatch = 20)"},
		{"not a number", map[string]string{"options": "max_backlog=many"}, 0, "", "max_backlog=many is not a whole number"},
		{"zero", map[string]string{"options": "max_backlog=0"}, 0, "", "max_backlog=0 is not a whole number"},
		{"not for a sow", map[string]string{"command": "sow"}, 0, "", ""},
		{"not with bookmarks", map[string]string{"bookmarkLog": "/tmp/x", "subscriptionId": "s"}, 0, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kv := map[string]string{"clientName": "c", "uri": "tcp://h:9007/amps/json", "topic": "Q"}
			for k, v := range tc.kv {
				kv[k] = v
			}
			cfg, err := ParseConfig(flume.MapContext(`source "amps"`, kv), nil)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.MaxBacklog != tc.backlog || cfg.SubscribeOptions() != tc.options {
				t.Fatalf("MaxBacklog %d options %q, want %d %q", cfg.MaxBacklog, cfg.SubscribeOptions(), tc.backlog, tc.options)
			}
		})
	}
}
