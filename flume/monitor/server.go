package monitor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Monitor types, the values of -Dflume.monitoring.type.
const (
	KindHTTP       = "http"
	KindPrometheus = "prometheus"
)

// DefaultPort is Flume's default monitoring port.
const DefaultPort = 41414

// Config selects and places a monitoring server.
type Config struct {
	Type string // KindHTTP or KindPrometheus
	Host string // default 127.0.0.1
	Port int    // default 41414; 0 picks a free port
}

// ConfigFromProperties reads the flume.monitoring.* options (the -D options
// of the command line). ok is false when no monitoring is asked for.
func ConfigFromProperties(props map[string]string) (cfg Config, ok bool, err error) {
	typ := strings.ToLower(strings.TrimSpace(props["flume.monitoring.type"]))
	if typ == "" {
		return Config{}, false, nil
	}
	switch typ {
	case KindHTTP, KindPrometheus, "org.apache.flume.instrumentation.http.httpmetricsserver":
		if strings.Contains(typ, ".") {
			typ = KindHTTP
		}
	default:
		return Config{}, false, fmt.Errorf("flume.monitoring.type %q: supported types are http and prometheus", props["flume.monitoring.type"])
	}
	cfg = Config{Type: typ, Host: "127.0.0.1", Port: DefaultPort}
	if h := strings.TrimSpace(props["flume.monitoring.host"]); h != "" {
		cfg.Host = h
	}
	if p := strings.TrimSpace(props["flume.monitoring.port"]); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 65535 {
			return Config{}, false, fmt.Errorf("flume.monitoring.port %q is not a port number", p)
		}
		cfg.Port = n
	}
	return cfg, true, nil
}

// Server is a running monitoring server.
type Server struct {
	srv  *http.Server
	ln   net.Listener
	done chan struct{}
}

// Start listens and serves the monitor described by cfg.
func Start(cfg Config, g Gatherer) (*Server, error) {
	var h *handler
	switch cfg.Type {
	case KindHTTP:
		h = newHandler(g, jsonMetrics(g))
	case KindPrometheus:
		h = newHandler(g, prometheusMetrics(g))
	default:
		return nil, fmt.Errorf("unknown monitoring type %q", cfg.Type)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)))
	if err != nil {
		return nil, fmt.Errorf("monitoring: %w", err)
	}
	s := &Server{srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}, ln: ln, done: make(chan struct{})}
	// Event streams never go idle: end them so that Shutdown can finish.
	s.srv.RegisterOnShutdown(h.stop)
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln)
	}()
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the server and waits for it.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	<-s.done
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// JSONHandler serves Flume's JSON at /metrics:
// {"SOURCE.r1":{"Type":"SOURCE",...},...} with every value a string; and
// the status page at /.
func JSONHandler(g Gatherer) http.Handler { return newHandler(g, jsonMetrics(g)) }

func jsonMetrics(g Gatherer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out := map[string]map[string]string{}
		for _, c := range g.Gather() {
			m := map[string]string{"Type": c.Type}
			for _, x := range c.Metrics {
				m[x.Name] = FormatValue(x.Name, x.Value)
			}
			out[c.Type+"."+c.Name] = m
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_ = json.NewEncoder(w).Encode(out)
	})
}

// FormatValue renders a metric as Flume's JSON does: Java longs as plain
// integers, doubles (the fill percentage) with at least one decimal.
func FormatValue(name string, v float64) string {
	isDouble := name == "ChannelFillPercentage"
	if !isDouble && v == math.Trunc(v) && math.Abs(v) < 1<<63 {
		return strconv.FormatInt(int64(v), 10)
	}
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return s
}

// sortedComponents orders components for stable output.
func sortedComponents(cs []Component) []Component {
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].Type != cs[j].Type {
			return cs[i].Type < cs[j].Type
		}
		return cs[i].Name < cs[j].Name
	})
	return cs
}
