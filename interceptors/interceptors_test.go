package interceptors

import (
	"errors"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"ampsflume/flume"
)

func build(t *testing.T, typ string, kv map[string]string) (flume.Interceptor, error) {
	t.Helper()
	r, ok := flume.Lookup(flume.KindInterceptor, typ)
	if !ok {
		t.Fatalf("interceptor %q not registered", typ)
	}
	return r.Interceptor(flume.InterceptorEnv{Name: "i1", Config: flume.MapContext(`interceptor "i1"`, kv)})
}

func headersString(h map[string]string) string {
	var parts []string
	for k, v := range h {
		parts = append(parts, k+"="+v)
	}
	sortStrings(parts)
	return strings.Join(parts, ",")
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

type interceptCase struct {
	name    string
	typ     string
	kv      map[string]string
	body    string
	headers map[string]string
	want    string // sorted k=v list; "DROP" when the event must be dropped
}

func runCases(t *testing.T, cases []interceptCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ic, err := build(t, tc.typ, tc.kv)
			if err != nil {
				t.Fatal(err)
			}
			h := map[string]string{}
			for k, v := range tc.headers {
				h[k] = v
			}
			out := ic.Intercept(flume.NewEvent([]byte(tc.body), h))
			if tc.want == "DROP" {
				if out != nil {
					t.Fatalf("event kept with headers %v, want dropped", out.Headers)
				}
				return
			}
			if out == nil {
				t.Fatal("event dropped")
			}
			if got := headersString(out.Headers); got != tc.want {
				t.Fatalf("headers %q, want %q", got, tc.want)
			}
		})
	}
}

func TestStaticFilterRemoveExtract(t *testing.T) {
	runCases(t, []interceptCase{
		{"static defaults", "static", nil, "b", nil, "key=value"},
		{"static preserves by default", "static", map[string]string{"key": "dc", "value": "east"}, "b", map[string]string{"dc": "west"}, "dc=west"},
		{"static overwrite", "org.apache.flume.interceptor.StaticInterceptor$Builder",
			map[string]string{"key": "dc", "value": "east", "preserveExisting": "false"}, "b", map[string]string{"dc": "west"}, "dc=east"},

		{"regex_filter default keeps all", "regex_filter", nil, "anything", nil, ""},
		{"regex_filter keeps matches", "regex_filter", map[string]string{"regex": "ERR"}, "an ERROR here", nil, ""},
		{"regex_filter drops non-matches", "regex_filter", map[string]string{"regex": "^ERR"}, "an ERROR here", nil, "DROP"},
		{"regex_filter exclude drops matches", "regex_filter", map[string]string{"regex": "DEBUG", "excludeEvents": "true"}, "DEBUG x", nil, "DROP"},
		{"regex_filter exclude keeps others", "regex_filter", map[string]string{"regex": "DEBUG", "excludeEvents": "true"}, "INFO x", nil, ""},

		{"remove_header withName", "remove_header", map[string]string{"withName": "a"}, "", map[string]string{"a": "1", "ab": "2"}, "ab=2"},
		{"remove_header fromList", "remove_header", map[string]string{"fromList": "a , b,c"}, "",
			map[string]string{"a": "1", "b": "2", "c": "3", "d": "4"}, "d=4"},
		{"remove_header custom separator", "remove_header", map[string]string{"fromList": "a:b", "fromListSeparator": ":"}, "",
			map[string]string{"a": "1", "b": "2", "c": "3"}, "c=3"},
		{"remove_header matching is a whole match", "remove_header", map[string]string{"matching": "tmp.*"}, "",
			map[string]string{"tmp1": "1", "xtmp": "2", "tmp": "3"}, "xtmp=2"},
		{"remove_header all together", "remove_header", map[string]string{"withName": "x", "fromList": "y", "matching": "z+"}, "",
			map[string]string{"x": "1", "y": "2", "zz": "3", "keep": "4"}, "keep=4"},

		{"regex_extractor groups", "regex_extractor", map[string]string{
			"regex": `(\w+):(\d+)`, "serializers": "s1 s2",
			"serializers.s1.name": "host", "serializers.s2.name": "port",
		}, "connect to web:8080 now", nil, "host=web,port=8080"},
		{"regex_extractor more groups than serializers", "regex_extractor", map[string]string{
			"regex": `(\w+):(\d+)`, "serializers": "s1", "serializers.s1.name": "host",
		}, "web:8080", nil, "host=web"},
		{"regex_extractor no match", "regex_extractor", map[string]string{
			"regex": `(\d+)`, "serializers": "s1", "serializers.s1.name": "n",
		}, "none", map[string]string{"n": "old"}, "n=old"},
		{"regex_extractor optional group", "regex_extractor", map[string]string{
			"regex": `a(x)?(b)`, "serializers": "s1 s2", "serializers.s1.name": "x", "serializers.s2.name": "b",
		}, "ab", nil, "b=b"},
	})
}

func TestRegexExtractorMillis(t *testing.T) {
	ic, err := build(t, "regex_extractor", map[string]string{
		"regex": `^(\d\d\d\d-\d\d-\d\d \d\d:\d\d)`, "serializers": "t",
		"serializers.t.name":    "timestamp",
		"serializers.t.type":    "org.apache.flume.interceptor.RegexExtractorInterceptorMillisSerializer",
		"serializers.t.pattern": "yyyy-MM-dd HH:mm",
	})
	if err != nil {
		t.Fatal(err)
	}
	e := ic.Intercept(flume.NewEvent([]byte("2012-10-17 14:34 something happened"), nil))
	want := time.Date(2012, 10, 17, 14, 34, 0, 0, time.Local).UnixMilli()
	if e.Headers["timestamp"] != strconv.FormatInt(want, 10) {
		t.Fatalf("timestamp = %q, want %d", e.Headers["timestamp"], want)
	}
}

func TestTimestamp(t *testing.T) {
	at := time.UnixMilli(1700000000123)
	tests := []struct {
		ts   Timestamp
		in   map[string]string
		want string
	}{
		{Timestamp{HeaderName: "timestamp"}, nil, "timestamp=1700000000123"},
		{Timestamp{HeaderName: "timestamp"}, map[string]string{"timestamp": "1"}, "timestamp=1700000000123"},
		{Timestamp{HeaderName: "ts", PreserveExisting: true}, map[string]string{"ts": "1"}, "ts=1"},
		{Timestamp{HeaderName: "ts", PreserveExisting: true}, nil, "ts=1700000000123"},
	}
	for _, tt := range tests {
		tt.ts.Now = func() time.Time { return at }
		e := tt.ts.Intercept(flume.NewEvent(nil, tt.in))
		if got := headersString(e.Headers); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.ts, got, tt.want)
		}
	}
	// Through the registry, with the real clock: a plausible millisecond time.
	ic, err := build(t, "org.apache.flume.interceptor.TimestampInterceptor$Builder", map[string]string{"headerName": "t"})
	if err != nil {
		t.Fatal(err)
	}
	ms, err := strconv.ParseInt(ic.Intercept(flume.NewEvent(nil, nil)).Headers["t"], 10, 64)
	if err != nil || ms < at.UnixMilli() {
		t.Fatalf("timestamp header %d, %v", ms, err)
	}
}

func TestHost(t *testing.T) {
	runCases(t, []interceptCase{
		{"host name", "host", map[string]string{"useIP": "false", "hostHeader": "h"}, "", nil, "h=" + localHost(false, slog.Default())},
	})
	ic := NewHost("host", "10.0.0.1", false)
	if e := ic.Intercept(flume.NewEvent(nil, map[string]string{"host": "x"})); e.Headers["host"] != "10.0.0.1" {
		t.Fatalf("host = %q", e.Headers["host"])
	}
	ic = NewHost("host", "10.0.0.1", true)
	if e := ic.Intercept(flume.NewEvent(nil, map[string]string{"host": "x"})); e.Headers["host"] != "x" {
		t.Fatalf("preserved host = %q", e.Headers["host"])
	}
	if e := NewHost("host", "", false).Intercept(flume.NewEvent(nil, nil)); len(e.Headers) != 0 {
		t.Fatalf("unknown address set headers %v", e.Headers)
	}
}

func TestUUID(t *testing.T) {
	uuidRE := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	ic, err := build(t, "org.apache.flume.sink.solr.morphline.UUIDInterceptor$Builder", map[string]string{"prefix": "agent1-"})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for range 100 {
		id := ic.Intercept(flume.NewEvent(nil, nil)).Headers["id"]
		if !strings.HasPrefix(id, "agent1-") || !uuidRE.MatchString(id[len("agent1-"):]) || seen[id] {
			t.Fatalf("bad or repeated id %q", id)
		}
		seen[id] = true
	}
	if e := ic.Intercept(flume.NewEvent(nil, map[string]string{"id": "mine"})); e.Headers["id"] != "mine" {
		t.Fatal("preserveExisting defaults to true")
	}
	ic, _ = build(t, "uuid", map[string]string{"headerName": "u", "preserveExisting": "false"})
	if e := ic.Intercept(flume.NewEvent(nil, map[string]string{"u": "mine"})); !uuidRE.MatchString(e.Headers["u"]) {
		t.Fatalf("u = %q", e.Headers["u"])
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		typ    string
		kv     map[string]string
		errKey string
	}{
		{"timestamp", map[string]string{"preserveExisting": "maybe"}, "preserveExisting"},
		{"host", map[string]string{"useIP": "1"}, "useIP"},
		{"static", map[string]string{"preserveExisting": "no"}, "preserveExisting"},
		{"uuid", map[string]string{"preserveExisting": "no"}, "preserveExisting"},
		{"regex_filter", map[string]string{"regex": "(unclosed"}, "regex"},
		{"regex_filter", map[string]string{"regex": `(a)\1`}, "regex"},
		{"regex_filter", map[string]string{"excludeEvents": "x"}, "excludeEvents"},
		{"remove_header", map[string]string{"matching": "["}, "matching"},
		{"remove_header", map[string]string{"fromList": "a", "fromListSeparator": "("}, "fromListSeparator"},
		{"regex_extractor", map[string]string{"serializers": "s", "serializers.s.name": "n"}, "regex"},
		{"regex_extractor", map[string]string{"regex": "(a)"}, "serializers"},
		{"regex_extractor", map[string]string{"regex": "(a)", "serializers": " "}, "serializers"},
		{"regex_extractor", map[string]string{"regex": "(a)", "serializers": "s"}, "serializers.s.name"},
		{"regex_extractor", map[string]string{"regex": "(a)", "serializers": "s", "serializers.s.name": "n", "serializers.s.type": "custom"}, "serializers.s.type"},
		{"regex_extractor", map[string]string{"regex": "(a)", "serializers": "s", "serializers.s.name": "n",
			"serializers.s.type": "org.apache.flume.interceptor.RegexExtractorInterceptorMillisSerializer"}, "serializers.s.pattern"},
		{"regex_extractor", map[string]string{"regex": "(a)", "serializers": "s", "serializers.s.name": "n",
			"serializers.s.type": "org.apache.flume.interceptor.RegexExtractorInterceptorMillisSerializer", "serializers.s.pattern": "yyyy QQ"}, "serializers.s.pattern"},
	}
	for _, tt := range tests {
		_, err := build(t, tt.typ, tt.kv)
		var ce *flume.ConfigError
		if !errors.As(err, &ce) || ce.Key != tt.errKey {
			t.Errorf("%s %v: err = %v, want key %q", tt.typ, tt.kv, err, tt.errKey)
		}
	}
}

func TestSpecsDeclareKeys(t *testing.T) {
	for alias, keys := range map[string][]string{
		"timestamp":       {"headerName", "preserveExisting"},
		"host":            {"hostHeader", "useIP", "preserveExisting"},
		"static":          {"key", "value", "preserveExisting"},
		"regex_filter":    {"regex", "excludeEvents"},
		"regex_extractor": {"regex", "serializers", "serializers.s1.name", "serializers.s1.type", "serializers.s1.pattern"},
		"remove_header":   {"withName", "fromList", "fromListSeparator", "matching"},
		"uuid":            {"headerName", "preserveExisting", "prefix"},
	} {
		r, ok := flume.Lookup(flume.KindInterceptor, alias)
		if !ok {
			t.Fatalf("%s not registered", alias)
		}
		for _, k := range keys {
			if !r.Spec.Accepts(k) {
				t.Errorf("%s does not declare %q", alias, k)
			}
		}
		if !strings.HasSuffix(r.Spec.Class, "$Builder") {
			t.Errorf("%s class %q is not a builder", alias, r.Spec.Class)
		}
	}
}

func TestJodaLayout(t *testing.T) {
	tests := []struct{ pattern, layout, errText string }{
		{"yyyy-MM-dd HH:mm:ss", "2006-01-02 15:04:05", ""},
		{"dd/MMM/yyyy:HH:mm:ss Z", "02/Jan/2006:15:04:05 -0700", ""},
		{"yyyy-MM-dd'T'HH:mm:ss.SSSZZ", "2006-01-02T15:04:05.000-07:00", ""},
		{"EEE, d MMM yy hh:mm a", "Mon, 2 Jan 06 03:04 PM", ""},
		{"''yyyy''", "'2006'", ""},
		{"yyyy QQ", "", "not supported"},
		{"yyyy 'unterminated", "", "unterminated"},
		{"ssSSS", "", "fractional"},
		{"yyyy1", "", "digits"},
	}
	for _, tt := range tests {
		got, err := JodaLayout(tt.pattern)
		if tt.errText != "" {
			if err == nil || !strings.Contains(err.Error(), tt.errText) {
				t.Errorf("%q: err = %v, want %q", tt.pattern, err, tt.errText)
			}
			continue
		}
		if err != nil || got != tt.layout {
			t.Errorf("%q = %q, %v; want %q", tt.pattern, got, err, tt.layout)
		}
	}
}

// FuzzJodaLayout: any accepted pattern yields a layout that formats and
// parses back a time without panicking.
func FuzzJodaLayout(f *testing.F) {
	for _, s := range []string{"yyyy-MM-dd HH:mm:ss", "''", "'a'b", "dd/MMM/yyyy:HH:mm:ss.SSS Z", "EEEE z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, pattern string) {
		layout, err := JodaLayout(pattern)
		if err != nil {
			return
		}
		s := time.Date(2021, 7, 9, 13, 5, 6, 789e6, time.UTC).Format(layout)
		_, _ = time.Parse(layout, s)
	})
}
