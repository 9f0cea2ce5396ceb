package interceptors

import "ampsflume/flume"

// interceptorFunc adapts a function to flume.Interceptor.
type interceptorFunc func(e *flume.Event) *flume.Event

func (f interceptorFunc) Intercept(e *flume.Event) *flume.Event { return f(e) }

// typeKey is declared by every interceptor.
var typeKey = flume.Key{Name: "type", Type: "string", Required: true, Doc: "The interceptor's alias or builder class name."}

// setHeader sets h[k] = v unless preserve is set and k is present.
func setHeader(e *flume.Event, k, v string, preserve bool) {
	if preserve {
		if _, ok := e.Headers[k]; ok {
			return
		}
	}
	e.Headers[k] = v
}
