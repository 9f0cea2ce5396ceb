package monitor

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"ampsflume/flume"
)

// topo is a gatherer that knows its topology, as the agent does.
type topo struct{ Gatherer }

func (t topo) Status() Status {
	return Status{
		Agent: "a1",
		Nodes: []Node{
			{ID: "source:r1", Kind: NodeSource, Name: "r1", Type: "amps", State: "running",
				Counters: map[string]float64{"EventAcceptedCount": 10},
				Info:     map[string]string{"connection": "disconnected", "lastError": "dial tcp: refused"}},
			{ID: "channel:c1", Kind: NodeChannel, Name: "c1", Type: "memory", State: "running",
				Counters: map[string]float64{"ChannelSize": 25, "ChannelCapacity": 100, "ChannelFillPercentage": 25, "EventPutSuccessCount": 40}},
		},
		Edges: []Edge{{From: "source:r1", To: "channel:c1"}},
	}
}

func getStatus(t *testing.T, h http.Handler) Status {
	t.Helper()
	code, body := do(t, h, "GET", "/status.json")
	if code != 200 {
		t.Fatalf("status.json: %d %s", code, body)
	}
	var st Status
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	return st
}

func nodeByID(t *testing.T, st Status, id string) Node {
	t.Helper()
	for _, n := range st.Nodes {
		if n.ID == id {
			return n
		}
	}
	t.Fatalf("no node %q in %+v", id, st.Nodes)
	return Node{}
}

func TestStatusJSONFromProvider(t *testing.T) {
	st := getStatus(t, JSONHandler(topo{fixture()}))
	if st.Agent != "a1" || len(st.Nodes) != 2 || len(st.Edges) != 1 || st.Time == 0 {
		t.Fatalf("%+v", st)
	}
	src := nodeByID(t, st, "source:r1")
	if src.Error != "dial tcp: refused" || src.Info["connection"] != "disconnected" || src.Type != "amps" {
		t.Errorf("source %+v", src)
	}
	ch := nodeByID(t, st, "channel:c1")
	if ch.Fill == nil || *ch.Fill != (Fill{Size: 25, Capacity: 100, Percent: 25}) {
		t.Errorf("fill %+v", ch.Fill)
	}
	if src.Rates != nil || src.Rate != nil {
		t.Errorf("rates on the first sample: %+v", src)
	}
}

func TestStatusFromBareGatherer(t *testing.T) {
	for _, h := range []http.Handler{JSONHandler(fixture()), PrometheusHandler(fixture())} {
		st := getStatus(t, h)
		if len(st.Edges) != 0 {
			t.Errorf("edges %+v", st.Edges)
		}
		for id, want := range map[string]string{"source:r1": "EventReceivedCount", "channel:c1": "EventPutSuccessCount", "sink:k1": "EventDrainSuccessCount"} {
			n := nodeByID(t, st, id)
			if _, ok := n.Counters[want]; !ok {
				t.Errorf("%s lacks %s: %+v", id, want, n.Counters)
			}
		}
		if f := nodeByID(t, st, "channel:c1").Fill; f == nil || f.Capacity != 100 || f.Size != 1 {
			t.Errorf("fill %+v", f)
		}
	}
}

// counting returns a gatherer whose source counter is read from n.
func counting(n *atomic.Int64) Gatherer {
	return GathererFunc(func() []Component {
		v := float64(n.Load())
		return []Component{{Type: TypeSource, Name: "r1", Metrics: []flume.Metric{
			{Name: "EventAcceptedCount", Value: v},
			{Name: "OpenConnectionCount", Value: v},
		}}}
	})
}

func TestRateTracker(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	var count atomic.Int64
	g := counting(&count)
	r := newRateTracker(time.Second)
	steps := []struct {
		name  string
		at    time.Duration
		count int64
		rate  float64 // -1: no rate yet
	}{
		{"first sample has no rate", 0, 100, -1},
		{"too soon to measure", 500 * time.Millisecond, 150, -1},
		{"measured over two seconds", 2 * time.Second, 300, 100},
		{"repeated within the window", 2500 * time.Millisecond, 900, 100},
		{"measured again", 4 * time.Second, 500, 100},
		{"counter reset by a reload", 5 * time.Second, 3, 0},
		{"after the reset", 7 * time.Second, 23, 10},
	}
	for _, s := range steps {
		count.Store(s.count)
		st := snapshot(g, r, t0.Add(s.at))
		n := st.Nodes[0]
		if s.rate < 0 {
			if n.Rate != nil {
				t.Errorf("%s: rate %v", s.name, *n.Rate)
			}
			continue
		}
		if n.Rate == nil || *n.Rate != s.rate {
			t.Errorf("%s: rate %v, want %v", s.name, n.Rate, s.rate)
		}
		if _, ok := n.Rates["OpenConnectionCount"]; ok {
			t.Errorf("%s: a level got a rate", s.name)
		}
	}
}

// readEvent returns the next "data:" payload of an event stream.
func readEvent(t *testing.T, br *bufio.Reader) Status {
	t.Helper()
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("stream: %v", err)
		}
		if data, ok := strings.CutPrefix(line, "data: "); ok {
			var st Status
			if err := json.Unmarshal([]byte(data), &st); err != nil {
				t.Fatalf("%v: %s", err, data)
			}
			return st
		}
	}
}

func TestEventStream(t *testing.T) {
	var count atomic.Int64
	count.Store(1)
	h := newHandler(counting(&count), jsonMetrics(fixture()))
	h.interval = 5 * time.Millisecond
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	br := bufio.NewReader(resp.Body)
	first := readEvent(t, br)
	if first.Nodes[0].Rate != nil {
		t.Errorf("first event has a rate")
	}
	count.Store(1000)
	// Wait for an event that shows the new count.
	for {
		st := readEvent(t, br)
		if st.Nodes[0].Counters["EventAcceptedCount"] == 1000 {
			if st.Nodes[0].Rate == nil || *st.Nodes[0].Rate <= 0 {
				t.Errorf("no rate after the counter moved: %+v", st.Nodes[0])
			}
			break
		}
	}
	h.stop()
	if _, err := io.Copy(io.Discard, br); err != nil {
		t.Fatalf("stream did not end cleanly: %v", err)
	}
}

func TestPageAndAssets(t *testing.T) {
	h := JSONHandler(fixture())
	for _, tc := range []struct {
		method, path string
		code         int
		contentType  string
		contains     string
	}{
		{"GET", "/", 200, "text/html", `src="static/status.js"`},
		{"GET", "/static/status.js", 200, "text/javascript", "EventSource"},
		{"GET", "/static/status.css", 200, "text/css", ".card"},
		{"GET", "/static/index.html", 404, "", ""},
		{"GET", "/static/../server.go", 404, "", ""},
		{"POST", "/status.json", 405, "", ""},
		{"POST", "/events", 405, "", ""},
		{"OPTIONS", "/status.json", 403, "", ""},
		{"GET", "/status.json", 200, "application/json", `"nodes"`},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
		if rec.Code != tc.code {
			t.Errorf("%s %s = %d, want %d", tc.method, tc.path, rec.Code, tc.code)
			continue
		}
		if !strings.HasPrefix(rec.Header().Get("Content-Type"), tc.contentType) {
			t.Errorf("%s %s: content type %q", tc.method, tc.path, rec.Header().Get("Content-Type"))
		}
		if !strings.Contains(rec.Body.String(), tc.contains) {
			t.Errorf("%s %s: body lacks %q", tc.method, tc.path, tc.contains)
		}
	}
}

// TestCloseEndsStreams checks that an open event stream does not hold up
// the server's shutdown (which would end in a deadline error).
func TestCloseEndsStreams(t *testing.T) {
	s, err := Start(Config{Type: KindPrometheus, Host: "127.0.0.1", Port: 0}, fixture())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + s.Addr() + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	readEvent(t, bufio.NewReader(resp.Body))
	if err := s.Close(); err != nil {
		t.Fatalf("close with an open stream: %v", err)
	}
	http.DefaultClient.CloseIdleConnections()
}
