package ampserver

import (
	"embed"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"
)

// The admin page is plain HTML, CSS and JavaScript compiled into the
// binary, so that it works on hosts without Internet access.
//
//go:embed adminpage
var adminAssets embed.FS

// adminAssetTypes are the files served under /static/, with their types.
var adminAssetTypes = map[string]string{
	"admin.js":  "text/javascript; charset=utf-8",
	"admin.css": "text/css; charset=utf-8",
}

// adminRateWindow is the shortest interval rates are measured over, so that
// several pages polling at once do not measure over tiny, noisy intervals.
const adminRateWindow = 500 * time.Millisecond

// AdminRates are per-second message rates, measured between two successive
// samples of the admin status; nil before the second sample.
type AdminRates struct {
	InRate  *float64 `json:"in_rate,omitempty"`
	OutRate *float64 `json:"out_rate,omitempty"`
}

// AdminPageClient is a client with its message rates.
type AdminPageClient struct {
	AdminClient
	AdminRates
}

// AdminPageTopic is a topic with its message rates.
type AdminPageTopic struct {
	AdminTopic
	AdminRates
}

// AdminTotals sums the topics of the server.
type AdminTotals struct {
	Clients     int    `json:"clients"`
	Topics      int    `json:"topics"`
	SOWRecords  int    `json:"sow_records"`
	MessagesIn  uint64 `json:"messages_in"`
	MessagesOut uint64 `json:"messages_out"`
	AdminRates
}

// AdminPageStatus is what the admin page reads at /status.json: the admin
// status with totals and rates.
type AdminPageStatus struct {
	Name    string            `json:"name"`
	Version string            `json:"version"`
	Time    int64             `json:"time"` // unix milliseconds of the sample
	Totals  AdminTotals       `json:"totals"`
	Clients []AdminPageClient `json:"clients"`
	Topics  []AdminPageTopic  `json:"topics"`
}

// adminRates turns successive message counts into rates.
type adminRates struct {
	min time.Duration

	mu     sync.Mutex
	prevAt time.Time
	prev   map[string][2]uint64  // key → in, out
	last   map[string][2]float64 // key → in/s, out/s
}

// sample records cur taken at now and returns the rates of each key, which
// are repeated from the last measurement until min has passed.
func (r *adminRates) sample(now time.Time, cur map[string][2]uint64) map[string][2]float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.prev == nil {
		r.prev, r.prevAt = cur, now
		return nil
	}
	dt := now.Sub(r.prevAt)
	if dt < r.min || dt <= 0 {
		return r.last
	}
	rate := func(now, before uint64) float64 {
		if now < before { // a topic or client of the same name came back
			return 0
		}
		return float64(now-before) / dt.Seconds()
	}
	out := make(map[string][2]float64, len(cur))
	for k, v := range cur {
		if p, ok := r.prev[k]; ok {
			out[k] = [2]float64{rate(v[0], p[0]), rate(v[1], p[1])}
		}
	}
	r.prev, r.prevAt, r.last = cur, now, out
	return out
}

func rates(m map[string][2]float64, key string) AdminRates {
	v, ok := m[key]
	if !ok {
		return AdminRates{}
	}
	return AdminRates{InRate: &v[0], OutRate: &v[1]}
}

func clientKey(c AdminClient) string { return "client\x00" + c.Name + "\x00" + c.Remote }

// pageStatus samples the server for the admin page.
func (s *Server) pageStatus(r *adminRates) AdminPageStatus {
	st := s.Status()
	now := s.clock.Now()
	out := AdminPageStatus{Name: st.Name, Version: st.Version, Time: now.UnixMilli(),
		Clients: make([]AdminPageClient, 0, len(st.Clients)), Topics: make([]AdminPageTopic, 0, len(st.Topics))}
	cur := make(map[string][2]uint64, len(st.Clients)+len(st.Topics)+1)
	tot := &out.Totals
	tot.Clients, tot.Topics = len(st.Clients), len(st.Topics)
	for _, c := range st.Clients {
		cur[clientKey(c)] = [2]uint64{c.MessagesIn, c.MessagesOut}
	}
	for _, t := range st.Topics {
		cur["topic\x00"+t.Name] = [2]uint64{t.MessagesIn, t.MessagesOut}
		tot.SOWRecords += t.SOWRecords
		tot.MessagesIn += t.MessagesIn
		tot.MessagesOut += t.MessagesOut
	}
	cur["total"] = [2]uint64{tot.MessagesIn, tot.MessagesOut}
	rs := r.sample(now, cur)
	for _, c := range st.Clients {
		out.Clients = append(out.Clients, AdminPageClient{AdminClient: c, AdminRates: rates(rs, clientKey(c))})
	}
	for _, t := range st.Topics {
		out.Topics = append(out.Topics, AdminPageTopic{AdminTopic: t, AdminRates: rates(rs, "topic\x00"+t.Name)})
	}
	tot.AdminRates = rates(rs, "total")
	return out
}

// adminPage adds the status page to the admin interface: / serves the page
// to browsers and the admin JSON (from status) to every other client, as it
// always did; /status.json is what the page polls.
func (s *Server) adminPage(mux *http.ServeMux, status http.HandlerFunc) {
	r := &adminRates{min: adminRateWindow}
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, req *http.Request) {
		if !acceptsHTML(req) {
			status(w, req)
			return
		}
		b, err := adminAssets.ReadFile("adminpage/index.html")
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("Vary", "Accept")
		_, _ = w.Write(b)
	})
	mux.HandleFunc("GET /status.json", func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(s.pageStatus(r))
	})
	mux.HandleFunc("GET /static/{file}", func(w http.ResponseWriter, req *http.Request) {
		name := req.PathValue("file")
		ct, ok := adminAssetTypes[name]
		if !ok {
			http.NotFound(w, req)
			return
		}
		b, err := adminAssets.ReadFile("adminpage/" + name)
		if err != nil {
			http.NotFound(w, req)
			return
		}
		w.Header().Set("Content-Type", ct)
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(b)
	})
}

// acceptsHTML tells a browser from scripts and tools, which keep getting
// the JSON at /.
func acceptsHTML(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(mt), "text/html") {
			return true
		}
	}
	return false
}
