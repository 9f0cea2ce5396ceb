package interceptors

import (
	"strconv"
	"time"

	"ampsflume/flume"
)

// TimestampSpec declares the timestamp interceptor.
var TimestampSpec = flume.Spec{
	Alias: "timestamp",
	Class: "org.apache.flume.interceptor.TimestampInterceptor$Builder",
	Doc:   "Sets a header to the time the event was intercepted, in milliseconds since the epoch.",
	Keys: []flume.Key{
		typeKey,
		{Name: "headerName", Type: "string", Default: "timestamp", Doc: "Header to set."},
		{Name: "preserveExisting", Type: "bool", Default: "false", Doc: "Keep the header if the event already has it."},
	},
}

// Timestamp is the timestamp interceptor.
type Timestamp struct {
	HeaderName       string
	PreserveExisting bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func init() {
	flume.RegisterInterceptor(TimestampSpec, func(env flume.InterceptorEnv) (flume.Interceptor, error) {
		preserve, err := env.Config.Bool("preserveExisting", false)
		if err != nil {
			return nil, err
		}
		return &Timestamp{HeaderName: env.Config.String("headerName", "timestamp"), PreserveExisting: preserve}, nil
	})
}

// Intercept sets the header.
func (t *Timestamp) Intercept(e *flume.Event) *flume.Event {
	if t.PreserveExisting {
		if _, ok := e.Headers[t.HeaderName]; ok {
			return e
		}
	}
	now := time.Now
	if t.Now != nil {
		now = t.Now
	}
	e.Headers[t.HeaderName] = strconv.FormatInt(now().UnixMilli(), 10)
	return e
}
