package interceptors

import "ampsflume/flume"

// StaticSpec declares the static interceptor.
var StaticSpec = flume.Spec{
	Alias: "static",
	Class: "org.apache.flume.interceptor.StaticInterceptor$Builder",
	Doc:   "Sets a fixed header on every event.",
	Keys: []flume.Key{
		typeKey,
		{Name: "key", Type: "string", Default: "key", Doc: "Header name."},
		{Name: "value", Type: "string", Default: "value", Doc: "Header value."},
		{Name: "preserveExisting", Type: "bool", Default: "true", Doc: "Keep the header if the event already has it."},
	},
}

func init() {
	flume.RegisterInterceptor(StaticSpec, func(env flume.InterceptorEnv) (flume.Interceptor, error) {
		preserve, err := env.Config.Bool("preserveExisting", true)
		if err != nil {
			return nil, err
		}
		key, value := env.Config.String("key", "key"), env.Config.String("value", "value")
		return interceptorFunc(func(e *flume.Event) *flume.Event {
			setHeader(e, key, value, preserve)
			return e
		}), nil
	})
}
