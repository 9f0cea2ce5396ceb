package monitor

import (
	"net/http"
	"strings"
	"unicode"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// collector exposes the Flume counters as Prometheus metrics named
// flume_<snake_case name> with labels type (source, channel, sink) and
// component. It is an unchecked collector: the set of components changes on
// reload, so it describes nothing up front.
type collector struct{ g Gatherer }

func (collector) Describe(chan<- *prometheus.Desc) {}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	for _, comp := range sortedComponents(c.g.Gather()) {
		for _, m := range comp.Metrics {
			vt := prometheus.GaugeValue
			if isCounter(m.Name) {
				vt = prometheus.CounterValue
			}
			desc := prometheus.NewDesc("flume_"+snake(m.Name), "Flume "+m.Name+" of the component.", []string{"type", "component"}, nil)
			pm, err := prometheus.NewConstMetric(desc, vt, m.Value, strings.ToLower(comp.Type), comp.Name)
			if err != nil {
				ch <- prometheus.NewInvalidMetric(desc, err)
				continue
			}
			ch <- pm
		}
	}
}

// isCounter tells monotonic counts from levels (sizes, open connections,
// times).
func isCounter(name string) bool {
	switch name {
	case "OpenConnectionCount", "ChannelSize", "ChannelCapacity", "ChannelFillPercentage", "StartTime", "StopTime":
		return false
	}
	return strings.HasSuffix(name, "Count") || strings.HasSuffix(name, "Fail")
}

// snake turns EventReceivedCount into event_received_count.
func snake(s string) string {
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		if unicode.IsUpper(r) {
			if i > 0 && (unicode.IsLower(rs[i-1]) || (i+1 < len(rs) && unicode.IsLower(rs[i+1]))) {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(r))
			continue
		}
		if r == '.' || r == '-' || r == ' ' {
			b.WriteByte('_')
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// PrometheusHandler serves the counters in the Prometheus text format at
// /metrics, with the same path and method rules and the same status page as
// the JSON server.
func PrometheusHandler(g Gatherer) http.Handler { return newHandler(g, prometheusMetrics(g)) }

func prometheusMetrics(g Gatherer) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collector{g})
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}
