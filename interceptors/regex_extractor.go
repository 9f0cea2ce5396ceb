package interceptors

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"ampsflume/flume"
)

// RegexExtractorSpec declares the regex_extractor interceptor.
var RegexExtractorSpec = flume.Spec{
	Alias: "regex_extractor",
	Class: "org.apache.flume.interceptor.RegexExtractorInterceptor$Builder",
	Doc: "Searches the body for regex and sets one header per capture group: group i goes to the i-th serializer " +
		"listed in serializers, named by serializers.<s>.name.",
	Keys: []flume.Key{
		typeKey,
		{Name: "regex", Type: "regexp", Required: true, Doc: "Pattern searched for in the body; its groups are extracted."},
		{Name: "serializers", Type: "string", Required: true, Doc: "Space-separated serializer names, one per capture group, in group order."},
		{Name: "serializers.", Type: "string", Doc: "serializers.<s>.name (header name, required), serializers.<s>.type " +
			"(default, or org.apache.flume.interceptor.RegexExtractorInterceptorMillisSerializer), serializers.<s>.pattern " +
			"(the date pattern of the millis serializer, e.g. yyyy-MM-dd HH:mm)."},
	},
}

type extractSerializer struct {
	header string
	conv   func(string) (string, bool)
}

func init() {
	flume.RegisterInterceptor(RegexExtractorSpec, func(env flume.InterceptorEnv) (flume.Interceptor, error) {
		cfg := env.Config
		var errs flume.ConfigErrors // every bad key, not only the first
		var re *regexp.Regexp
		src, err := cfg.RequiredString("regex")
		switch {
		case errs.Add(err):
		case src == "":
			errs.Add(cfg.Errorf("regex", "must not be empty"))
		default:
			if re, err = regexp.Compile(src); err != nil {
				errs.Add(cfg.Errorf("regex", "invalid regular expression %q: %v", src, err))
			}
		}
		list, err := cfg.RequiredString("serializers")
		var sers []extractSerializer
		if !errs.Add(err) {
			for _, s := range strings.Fields(list) {
				ser, err := parseExtractSerializer(cfg, s)
				if errs.Add(err) {
					continue
				}
				sers = append(sers, ser)
			}
			if len(strings.Fields(list)) == 0 {
				errs.Add(cfg.Errorf("serializers", "must name at least one serializer"))
			}
		}
		if err := errs.Err(); err != nil {
			return nil, err
		}
		return interceptorFunc(func(e *flume.Event) *flume.Event {
			m := re.FindSubmatchIndex(e.Body)
			if m == nil {
				return e
			}
			for g := 1; g < len(m)/2 && g <= len(sers); g++ {
				if m[2*g] < 0 {
					continue // the group took no part in the match
				}
				if v, ok := sers[g-1].conv(string(e.Body[m[2*g]:m[2*g+1]])); ok {
					e.Headers[sers[g-1].header] = v
				}
			}
			return e
		}), nil
	})
}

func parseExtractSerializer(cfg *flume.Context, s string) (extractSerializer, error) {
	prefix := "serializers." + s + "."
	name := cfg.String(prefix+"name", "")
	if name == "" {
		return extractSerializer{}, cfg.Errorf(prefix+"name", "is required: the header that receives the group")
	}
	switch typ := cfg.String(prefix+"type", "default"); strings.ToLower(typ) {
	case "default", "org.apache.flume.interceptor.regexextractorinterceptorpassthroughserializer":
		return extractSerializer{header: name, conv: func(v string) (string, bool) { return v, true }}, nil
	case "org.apache.flume.interceptor.regexextractorinterceptormillisserializer":
		pattern, err := cfg.RequiredString(prefix + "pattern")
		if err != nil {
			return extractSerializer{}, err
		}
		layout, err := JodaLayout(pattern)
		if err != nil {
			return extractSerializer{}, cfg.Errorf(prefix+"pattern", "%v", err)
		}
		return extractSerializer{header: name, conv: func(v string) (string, bool) {
			t, err := time.ParseInLocation(layout, v, time.Local)
			if err != nil {
				return "", false
			}
			return strconv.FormatInt(t.UnixMilli(), 10), true
		}}, nil
	default:
		return extractSerializer{}, cfg.Errorf(prefix+"type", "unknown serializer %q: use default or "+
			"org.apache.flume.interceptor.RegexExtractorInterceptorMillisSerializer", typ)
	}
}

// jodaFields maps Joda-Time pattern letters, by run length, to Go layout
// elements.
var jodaFields = map[string]string{
	"yyyy": "2006", "yy": "06", "MMMM": "January", "MMM": "Jan", "MM": "01", "M": "1",
	"dd": "02", "d": "2", "HH": "15", "hh": "03", "h": "3", "mm": "04", "m": "4",
	"ss": "05", "s": "5", "S": "0", "SS": "00", "SSS": "000", "a": "PM",
	"EEEE": "Monday", "EEE": "Mon", "E": "Mon", "Z": "-0700", "ZZ": "-07:00", "z": "MST",
}

// JodaLayout converts a Joda-Time date pattern (the form Flume's
// configuration uses, e.g. "yyyy-MM-dd HH:mm:ss") into a Go time layout. It
// supports the common fields; any other pattern letter is an error.
func JodaLayout(pattern string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(pattern); {
		c := pattern[i]
		switch {
		case c == '\'':
			// Quoted literal; '' is a single quote.
			j := i + 1
			if j < len(pattern) && pattern[j] == '\'' {
				b.WriteByte('\'')
				i += 2
				continue
			}
			for j < len(pattern) && pattern[j] != '\'' {
				j++
			}
			if j == len(pattern) {
				return "", fmt.Errorf("unterminated quote in date pattern %q", pattern)
			}
			lit := pattern[i+1 : j]
			if strings.ContainsAny(lit, "0123456789") {
				return "", fmt.Errorf("date pattern %q: quoted digits are not supported", pattern)
			}
			b.WriteString(lit)
			i = j + 1
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i
			for j < len(pattern) && pattern[j] == c {
				j++
			}
			run := pattern[i:j]
			f, ok := jodaFields[run]
			if !ok {
				return "", fmt.Errorf("date pattern %q: field %q is not supported", pattern, run)
			}
			// Go reads fractional seconds only after a '.' or ','.
			if c == 'S' && !(i > 0 && (pattern[i-1] == '.' || pattern[i-1] == ',')) {
				return "", fmt.Errorf("date pattern %q: fractional seconds must follow '.' or ','", pattern)
			}
			b.WriteString(f)
			i = j
		case c >= '0' && c <= '9':
			return "", fmt.Errorf("date pattern %q: literal digits are not supported", pattern)
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), nil
}
