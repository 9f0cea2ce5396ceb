package monitor

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"ampsflume/flume"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func fixture() Gatherer {
	return GathererFunc(func() []Component {
		var sc flume.SourceCounter
		sc.EventReceived.Add(5)
		sc.EventAccepted.Add(4)
		var cc flume.ChannelCounter
		cc.EventPutSuccess.Add(4)
		var kc flume.SinkCounter
		kc.EventDrainSuccess.Add(3)
		return []Component{
			{Type: TypeSource, Name: "r1", Metrics: sc.Metrics()},
			{Type: TypeChannel, Name: "c1", Metrics: cc.Metrics(1, 100)},
			{Type: TypeSink, Name: "k1", Metrics: append(kc.Metrics(), flume.Metric{Name: "Extra", Value: 1.5})},
		}
	})
}

func do(t *testing.T, h http.Handler, method, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec.Code, rec.Body.String()
}

func TestJSONShape(t *testing.T) {
	code, body := do(t, JSONHandler(fixture()), "GET", "/metrics")
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	var got map[string]map[string]string // fails to decode unless every value is a string
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	checks := map[string]map[string]string{
		"SOURCE.r1":  {"Type": "SOURCE", "EventReceivedCount": "5", "EventAcceptedCount": "4", "StopTime": "0"},
		"CHANNEL.c1": {"Type": "CHANNEL", "ChannelSize": "1", "ChannelCapacity": "100", "ChannelFillPercentage": "1.0", "EventPutSuccessCount": "4"},
		"SINK.k1":    {"Type": "SINK", "EventDrainSuccessCount": "3", "Extra": "1.5"},
	}
	if len(got) != len(checks) {
		t.Fatalf("keys %v", got)
	}
	for comp, kv := range checks {
		for k, v := range kv {
			if got[comp][k] != v {
				t.Errorf("%s.%s = %q, want %q", comp, k, got[comp][k], v)
			}
		}
	}
}

func TestFormatValue(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    float64
		want string
	}{
		{"ChannelFillPercentage", 0, "0.0"},
		{"ChannelFillPercentage", 12.5, "12.5"},
		{"EventReceivedCount", 42, "42"},
		{"StartTime", 1700000000123, "1700000000123"},
		{"Other", 0.25, "0.25"},
	} {
		if got := FormatValue(tc.name, tc.v); got != tc.want {
			t.Errorf("%s %v = %q, want %q", tc.name, tc.v, got, tc.want)
		}
	}
}

func TestMethodAndPathRules(t *testing.T) {
	for _, h := range []http.Handler{JSONHandler(fixture()), PrometheusHandler(fixture())} {
		for _, tc := range []struct {
			method, path string
			code         int
		}{
			{"TRACE", "/metrics", 403},
			{"OPTIONS", "/metrics", 403},
			{"TRACE", "/other", 403},
			{"GET", "/other", 404},
			{"GET", "/metrics/x", 404},
			{"GET", "/", 200},
			{"POST", "/metrics", 405},
			{"GET", "/metrics", 200},
		} {
			if code, _ := do(t, h, tc.method, tc.path); code != tc.code {
				t.Errorf("%s %s = %d, want %d", tc.method, tc.path, code, tc.code)
			}
		}
	}
}

func TestPrometheusText(t *testing.T) {
	_, body := do(t, PrometheusHandler(fixture()), "GET", "/metrics")
	for _, want := range []string{
		`flume_event_received_count{component="r1",type="source"} 5`,
		`# TYPE flume_event_received_count counter`,
		`flume_channel_size{component="c1",type="channel"} 1`,
		`# TYPE flume_channel_fill_percentage gauge`,
		`flume_event_drain_success_count{component="k1",type="sink"} 3`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("missing %q in:\n%s", want, body)
		}
	}
}

func TestConfigFromProperties(t *testing.T) {
	cfg, ok, err := ConfigFromProperties(map[string]string{"flume.monitoring.type": "http"})
	if err != nil || !ok || cfg != (Config{Type: "http", Host: "127.0.0.1", Port: 41414}) {
		t.Fatalf("%+v %v %v", cfg, ok, err)
	}
	cfg, _, _ = ConfigFromProperties(map[string]string{"flume.monitoring.type": "prometheus", "flume.monitoring.port": "9100", "flume.monitoring.host": "0.0.0.0"})
	if cfg != (Config{Type: "prometheus", Host: "0.0.0.0", Port: 9100}) {
		t.Fatalf("%+v", cfg)
	}
	if _, ok, _ := ConfigFromProperties(nil); ok {
		t.Fatal("monitoring on without a type")
	}
	for _, bad := range []map[string]string{{"flume.monitoring.type": "ganglia"}, {"flume.monitoring.type": "http", "flume.monitoring.port": "x"}} {
		if _, _, err := ConfigFromProperties(bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestServerListensOnLoopback(t *testing.T) {
	s, err := Start(Config{Type: KindHTTP, Host: "127.0.0.1", Port: 0}, fixture())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if !strings.HasPrefix(s.Addr(), "127.0.0.1:") {
		t.Fatalf("addr %s", s.Addr())
	}
	resp, err := http.Get("http://" + s.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"SOURCE.r1"`) {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	http.DefaultClient.CloseIdleConnections()
}
