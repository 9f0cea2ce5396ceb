package interceptors

import (
	"regexp"

	"ampsflume/flume"
)

// RegexFilterSpec declares the regex_filter interceptor.
var RegexFilterSpec = flume.Spec{
	Alias: "regex_filter",
	Class: "org.apache.flume.interceptor.RegexFilteringInterceptor$Builder",
	Doc:   "Keeps only the events whose body (as text) contains a match of regex, or drops them with excludeEvents.",
	Keys: []flume.Key{
		typeKey,
		{Name: "regex", Type: "regexp", Default: ".*", Doc: "Pattern searched for anywhere in the body."},
		{Name: "excludeEvents", Type: "bool", Default: "false", Doc: "Drop matching events instead of keeping them."},
	},
}

func init() {
	flume.RegisterInterceptor(RegexFilterSpec, func(env flume.InterceptorEnv) (flume.Interceptor, error) {
		// Both keys are read before either error is returned, so that
		// one run reports them all.
		re, errRe := compileKey(env.Config, "regex", ".*")
		exclude, errEx := env.Config.Bool("excludeEvents", false)
		var errs flume.ConfigErrors
		errs.Add(errRe)
		errs.Add(errEx)
		if err := errs.Err(); err != nil {
			return nil, err
		}
		return interceptorFunc(func(e *flume.Event) *flume.Event {
			if re.Match(e.Body) == exclude {
				return nil
			}
			return e
		}), nil
	})
}

// compileKey compiles the regular expression in key.
func compileKey(cfg *flume.Context, key, def string) (*regexp.Regexp, error) {
	s := cfg.String(key, def)
	re, err := regexp.Compile(s)
	if err != nil {
		return nil, cfg.Errorf(key, "invalid regular expression %q: %v", s, err)
	}
	return re, nil
}
