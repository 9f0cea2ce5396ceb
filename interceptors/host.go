package interceptors

import (
	"log/slog"
	"net"
	"os"

	"ampsflume/flume"
)

// HostSpec declares the host interceptor.
var HostSpec = flume.Spec{
	Alias: "host",
	Class: "org.apache.flume.interceptor.HostInterceptor$Builder",
	Doc:   "Sets a header to this machine's IP address or host name, found once when the interceptor is built.",
	Keys: []flume.Key{
		typeKey,
		{Name: "hostHeader", Type: "string", Default: "host", Doc: "Header to set."},
		{Name: "useIP", Type: "bool", Default: "true", Doc: "Use the IP address; false uses the host name."},
		{Name: "preserveExisting", Type: "bool", Default: "false", Doc: "Keep the header if the event already has it."},
	},
}

func init() {
	flume.RegisterInterceptor(HostSpec, func(env flume.InterceptorEnv) (flume.Interceptor, error) {
		cfg := env.Config
		var errs flume.ConfigErrors // every bad key, not only the first
		preserve, err := cfg.Bool("preserveExisting", false)
		errs.Add(err)
		useIP, err := cfg.Bool("useIP", true)
		errs.Add(err)
		if err := errs.Err(); err != nil {
			return nil, err
		}
		return NewHost(cfg.String("hostHeader", "host"), localHost(useIP, env.Log()), preserve), nil
	})
}

// NewHost returns an interceptor setting header to value. An empty value
// (the address could not be found) leaves events unchanged, as in Flume.
func NewHost(header, value string, preserve bool) flume.Interceptor {
	return interceptorFunc(func(e *flume.Event) *flume.Event {
		if value != "" {
			setHeader(e, header, value, preserve)
		}
		return e
	})
}

// localHost returns the host name, or the address it resolves to (IPv4
// preferred), like Java's InetAddress.getLocalHost.
func localHost(useIP bool, log *slog.Logger) string {
	name, err := os.Hostname()
	if err != nil {
		log.Warn("host interceptor: cannot find the host name", "err", err)
		return ""
	}
	if !useIP {
		return name
	}
	ips, err := net.LookupIP(name)
	if err != nil || len(ips) == 0 {
		log.Warn("host interceptor: cannot resolve the host name", "host", name, "err", err)
		return ""
	}
	for _, ip := range ips {
		if ip.To4() != nil {
			return ip.String()
		}
	}
	return ips[0].String()
}
