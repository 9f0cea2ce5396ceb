package interceptors

import (
	"regexp"

	"ampsflume/flume"
)

// RemoveHeaderSpec declares the remove_header interceptor.
var RemoveHeaderSpec = flume.Spec{
	Alias: "remove_header",
	Class: "org.apache.flume.interceptor.RemoveHeaderInterceptor$Builder",
	Doc:   "Removes headers by exact name, by a list of names, or by a pattern matching the whole name.",
	Keys: []flume.Key{
		typeKey,
		{Name: "withName", Type: "string", Doc: "Name of a header to remove."},
		{Name: "fromList", Type: "string", Doc: "Names of headers to remove, separated by fromListSeparator."},
		{Name: "fromListSeparator", Type: "regexp", Default: `\s*,\s*`, Doc: "Pattern separating the names in fromList."},
		{Name: "matching", Type: "regexp", Doc: "Remove every header whose whole name matches this pattern."},
	},
}

func init() {
	flume.RegisterInterceptor(RemoveHeaderSpec, func(env flume.InterceptorEnv) (flume.Interceptor, error) {
		cfg := env.Config
		var errs flume.ConfigErrors // every bad key, not only the first
		names := map[string]bool{}
		if p, ok := cfg.Lookup("withName"); ok && p.Value != "" {
			names[p.Value] = true
		}
		if p, ok := cfg.Lookup("fromList"); ok && p.Value != "" {
			sep, err := compileKey(cfg, "fromListSeparator", `\s*,\s*`)
			if !errs.Add(err) {
				for _, n := range sep.Split(p.Value, -1) {
					if n != "" {
						names[n] = true
					}
				}
			}
		}
		var match *regexp.Regexp
		if p, ok := cfg.Lookup("matching"); ok && p.Value != "" {
			re, err := regexp.Compile(`^(?:` + p.Value + `)$`)
			if err != nil {
				errs.Add(cfg.Errorf("matching", "invalid regular expression %q: %v", p.Value, err))
			}
			match = re
		}
		if err := errs.Err(); err != nil {
			return nil, err
		}
		return interceptorFunc(func(e *flume.Event) *flume.Event {
			for k := range e.Headers {
				if names[k] || (match != nil && match.MatchString(k)) {
					delete(e.Headers, k)
				}
			}
			return e
		}), nil
	})
}
