package monitor

import (
	"embed"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// The status page is plain HTML, CSS and JavaScript compiled into the
// binary, so that it works on hosts without Internet access.
//
//go:embed static
var static embed.FS

// assets are the files served under /static/, with their content types.
var assets = map[string]string{
	"status.js":  "text/javascript; charset=utf-8",
	"status.css": "text/css; charset=utf-8",
}

// DefaultStreamInterval is how often /events sends a new status.
const DefaultStreamInterval = time.Second

// sharedRateWindow is the shortest interval the rates of /status.json are
// measured over, whoever polls it.
const sharedRateWindow = 500 * time.Millisecond

// handler serves the metrics endpoint and the status page around it, with
// Flume's rules: TRACE and OPTIONS are forbidden, unknown paths are not
// found, and only GET and HEAD are allowed.
type handler struct {
	g        Gatherer
	metrics  http.Handler
	shared   *rateTracker
	interval time.Duration
	now      func() time.Time

	done     chan struct{}
	stopOnce sync.Once
}

func newHandler(g Gatherer, metrics http.Handler) *handler {
	return &handler{
		g: g, metrics: metrics,
		shared:   newRateTracker(sharedRateWindow),
		interval: DefaultStreamInterval,
		now:      time.Now,
		done:     make(chan struct{}),
	}
}

// stop ends every open event stream.
func (h *handler) stop() { h.stopOnce.Do(func() { close(h.done) }) }

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodTrace || r.Method == http.MethodOptions {
		http.Error(w, "Forbidden", http.StatusForbidden)
		return
	}
	var serve http.HandlerFunc
	switch p := r.URL.Path; {
	case p == "/metrics":
		serve = h.metrics.ServeHTTP
	case p == "/":
		serve = h.page
	case p == "/status.json":
		serve = h.statusJSON
	case p == "/events":
		serve = h.events
	case strings.HasPrefix(p, "/static/") && assets[strings.TrimPrefix(p, "/static/")] != "":
		serve = h.asset
	default:
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	serve(w, r)
}

func (h *handler) page(w http.ResponseWriter, r *http.Request) {
	b, err := static.ReadFile("static/index.html")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(b)
}

func (h *handler) asset(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/static/")
	b, err := static.ReadFile("static/" + name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", assets[name])
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(b)
}

// StatusOf returns the current status of g with fill levels derived and no
// rates; it is what /status.json serves, less the rates.
func StatusOf(g Gatherer) Status { return snapshot(g, nil, time.Now()) }

func (h *handler) statusJSON(w http.ResponseWriter, r *http.Request) {
	st := snapshot(h.g, h.shared, h.now())
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(st)
}

// events streams the status as server-sent events, one "data:" line of
// JSON per interval. Each stream measures rates over its own successive
// samples.
func (h *handler) events(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	rates := newRateTracker(0)
	send := func() error {
		b, err := json.Marshal(snapshot(h.g, rates, h.now()))
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "data: %s\n\n", b); err != nil {
			return err
		}
		fl.Flush()
		return nil
	}
	// A retry hint keeps reconnections after a restart of the agent quick.
	if _, err := fmt.Fprint(w, "retry: 1000\n\n"); err != nil {
		return
	}
	if send() != nil {
		return
	}
	tick := time.NewTicker(h.interval)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-h.done:
			return
		case <-tick.C:
			if send() != nil {
				return
			}
		}
	}
}
