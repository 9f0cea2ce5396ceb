package options

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Reason is the ack reason AMPS uses when an options string is rejected.
const Reason = "invalid options"

// Error reports a rejected options string.
type Error struct {
	Option string // the offending option name (or the raw entry when unnamed)
	Msg    string
}

func (e *Error) Error() string {
	if e.Option == "" {
		return Reason + ": " + e.Msg
	}
	return fmt.Sprintf("%s: %s: %s", Reason, e.Option, e.Msg)
}

// Reason returns the ack reason for the failure.
func (e *Error) Reason() string { return Reason }

// ConflationMode says whether and how a subscription is conflated.
type ConflationMode uint8

const (
	// ConflationNone delivers every update (the default).
	ConflationNone ConflationMode = iota
	// ConflationInterval holds updates per key for Conflation.Interval.
	ConflationInterval
	// ConflationAuto lets the server pick the interval from the consumer's
	// pace.
	ConflationAuto
)

// Conflation is the parsed `conflation` option.
type Conflation struct {
	Mode     ConflationMode
	Interval time.Duration // set when Mode is ConflationInterval
}

// Options is a parsed options string. Zero values mean "not given".
type Options struct {
	// Aggregation.
	Projection []string // projection=[...]: entries exactly as written, trimmed
	Grouping   []string // grouping=[...]

	// Conflation.
	Conflation    Conflation
	ConflationKey []string // conflation_key=[...]

	// Delivery flags.
	OOF          bool // oof
	NoEmpties    bool // no_empties
	SendKeys     bool // send_keys
	NoSowKey     bool // no_sowkey
	Timestamp    bool // timestamp
	Replace      bool // replace
	Live         bool // live
	FullyDurable bool // fully_durable
	Pause        bool // pause
	Resume       bool // resume
	Cancel       bool // cancel

	// Result-set management. Has* tell whether the option was present.
	TopN         int
	HasTopN      bool
	SkipN        int
	HasSkipN     bool
	BatchSize    int
	HasBatchSize bool
	OrderBy      string // orderby=...: the order clause as written

	// Passed through uninterpreted (validated only for presence of a value).
	Rate             string   // rate=N|NKB|N.NX
	RateMaxGap       string   // rate_max_gap=10s
	Select           []string // select=[...]
	BookmarkNotFound string   // bookmark_not_found=now|epoch|fail
	MaxBacklog       int      // max_backlog=N
	HasMaxBacklog    bool
	Expire           bool   // expire
	AckConflation    string // ack_conflation=...
}

// Aggregated reports whether the options request an aggregated subscription.
func (o *Options) Aggregated() bool { return o.Projection != nil || o.Grouping != nil }

type kind uint8

const (
	flag     kind = iota // name only
	value                // name=value required
	list                 // name=[a,b] (brackets optional for one entry)
	interval             // conflation
	integer              // non-negative integer
)

type spec struct {
	kind kind
	set  func(o *Options, v string, l []string, n int)
}

var specs = map[string]spec{
	"projection":         {list, func(o *Options, _ string, l []string, _ int) { o.Projection = l }},
	"grouping":           {list, func(o *Options, _ string, l []string, _ int) { o.Grouping = l }},
	"conflation_key":     {list, func(o *Options, _ string, l []string, _ int) { o.ConflationKey = l }},
	"select":             {list, func(o *Options, _ string, l []string, _ int) { o.Select = l }},
	"conflation":         {interval, nil},
	"oof":                {flag, func(o *Options, _ string, _ []string, _ int) { o.OOF = true }},
	"no_empties":         {flag, func(o *Options, _ string, _ []string, _ int) { o.NoEmpties = true }},
	"send_keys":          {flag, func(o *Options, _ string, _ []string, _ int) { o.SendKeys = true }},
	"no_sowkey":          {flag, func(o *Options, _ string, _ []string, _ int) { o.NoSowKey = true }},
	"timestamp":          {flag, func(o *Options, _ string, _ []string, _ int) { o.Timestamp = true }},
	"replace":            {flag, func(o *Options, _ string, _ []string, _ int) { o.Replace = true }},
	"live":               {flag, func(o *Options, _ string, _ []string, _ int) { o.Live = true }},
	"fully_durable":      {flag, func(o *Options, _ string, _ []string, _ int) { o.FullyDurable = true }},
	"pause":              {flag, func(o *Options, _ string, _ []string, _ int) { o.Pause = true }},
	"resume":             {flag, func(o *Options, _ string, _ []string, _ int) { o.Resume = true }},
	"cancel":             {flag, func(o *Options, _ string, _ []string, _ int) { o.Cancel = true }},
	"expire":             {flag, func(o *Options, _ string, _ []string, _ int) { o.Expire = true }},
	"top_n":              {integer, func(o *Options, _ string, _ []string, n int) { o.TopN, o.HasTopN = n, true }},
	"skip_n":             {integer, func(o *Options, _ string, _ []string, n int) { o.SkipN, o.HasSkipN = n, true }},
	"batch_size":         {integer, func(o *Options, _ string, _ []string, n int) { o.BatchSize, o.HasBatchSize = n, true }},
	"max_backlog":        {integer, func(o *Options, _ string, _ []string, n int) { o.MaxBacklog, o.HasMaxBacklog = n, true }},
	"orderby":            {value, func(o *Options, v string, _ []string, _ int) { o.OrderBy = v }},
	"rate":               {value, func(o *Options, v string, _ []string, _ int) { o.Rate = v }},
	"rate_max_gap":       {value, func(o *Options, v string, _ []string, _ int) { o.RateMaxGap = v }},
	"bookmark_not_found": {value, func(o *Options, v string, _ []string, _ int) { o.BookmarkNotFound = v }},
	"ack_conflation":     {value, func(o *Options, v string, _ []string, _ int) { o.AckConflation = v }},
}

// Parse parses an options string. The empty string gives zero Options.
func Parse(s string) (*Options, error) {
	o := &Options{}
	entries, err := split(s)
	if err != nil {
		return nil, &Error{Msg: err.Error()}
	}
	seen := make(map[string]bool, len(entries))
	for _, e := range entries {
		name, val, hasVal := strings.Cut(e, "=")
		name = strings.ToLower(strings.TrimSpace(name))
		val = strings.TrimSpace(val)
		sp, ok := specs[name]
		if !ok {
			if name == "" {
				return nil, &Error{Option: e, Msg: "entry has no option name"}
			}
			return nil, &Error{Option: name, Msg: "unknown option"}
		}
		if seen[name] {
			return nil, &Error{Option: name, Msg: "given more than once"}
		}
		seen[name] = true
		if sp.kind == flag {
			if hasVal {
				return nil, &Error{Option: name, Msg: "takes no value"}
			}
			sp.set(o, "", nil, 0)
			continue
		}
		if !hasVal || val == "" {
			return nil, &Error{Option: name, Msg: "requires a value"}
		}
		switch sp.kind {
		case value:
			sp.set(o, val, nil, 0)
		case integer:
			n, err := strconv.Atoi(val)
			if err != nil || n < 0 {
				return nil, &Error{Option: name, Msg: fmt.Sprintf("%q is not a non-negative integer", val)}
			}
			sp.set(o, "", nil, n)
		case list:
			l, err := parseList(val)
			if err != nil {
				return nil, &Error{Option: name, Msg: err.Error()}
			}
			sp.set(o, "", l, 0)
		case interval:
			c, err := parseConflation(val)
			if err != nil {
				return nil, &Error{Option: name, Msg: err.Error()}
			}
			o.Conflation = c
		}
	}
	if err := o.validate(); err != nil {
		return nil, err
	}
	return o, nil
}

// validate checks combinations that each option alone cannot.
func (o *Options) validate() error {
	if o.HasSkipN && !o.HasTopN {
		return &Error{Option: "skip_n", Msg: "requires top_n"}
	}
	if o.Projection != nil && o.Grouping == nil {
		return &Error{Option: "projection", Msg: "requires grouping"}
	}
	if o.Grouping != nil && o.Projection == nil {
		return &Error{Option: "grouping", Msg: "requires projection"}
	}
	if o.ConflationKey != nil && o.Conflation.Mode == ConflationNone {
		return &Error{Option: "conflation_key", Msg: "requires conflation"}
	}
	if o.Live && (o.Pause || o.Resume || o.Rate != "") {
		return &Error{Option: "live", Msg: "cannot be combined with rate, pause or resume"}
	}
	return nil
}

// parseConflation parses `none`, `auto` or a duration with unit ns, us,
// ms, s, m or h (fractions allowed: `1.5s`).
func parseConflation(v string) (Conflation, error) {
	switch strings.ToLower(v) {
	case "none":
		return Conflation{}, nil
	case "auto":
		return Conflation{Mode: ConflationAuto}, nil
	}
	d, err := ParseInterval(v)
	if err != nil {
		return Conflation{}, err
	}
	return Conflation{Mode: ConflationInterval, Interval: d}, nil
}

// ErrOutOfRange marks a duration whose number and unit parse but whose
// value does not fit (below a nanosecond, or above about 146 years).
var ErrOutOfRange = errors.New("out of range")

// ParseInterval parses an AMPS interval such as `100ms`, `1s` or `1m`.
// The unit is required and the result must be positive.
func ParseInterval(v string) (time.Duration, error) {
	d, err := ParseDuration(v, 0)
	if err == nil && d == 0 {
		err = fmt.Errorf("interval %q is %w", strings.TrimSpace(v), ErrOutOfRange)
	}
	return d, err
}

// ParseDuration parses a non-negative number with an AMPS unit (ns, us, ms,
// s, m, h, d, w). A bare number counts in units of bare; with bare 0 the
// unit is required. Zero is allowed; a value that is not zero but below a
// nanosecond, or too large for a time.Duration, wraps ErrOutOfRange.
func ParseDuration(v string, bare time.Duration) (time.Duration, error) {
	v = strings.TrimSpace(v)
	i := 0
	for i < len(v) && (v[i] >= '0' && v[i] <= '9' || v[i] == '.') {
		i++
	}
	num, unit := v[:i], strings.ToLower(strings.TrimSpace(v[i:]))
	var mult time.Duration
	switch unit {
	case "ns":
		mult = time.Nanosecond
	case "us":
		mult = time.Microsecond
	case "ms":
		mult = time.Millisecond
	case "s":
		mult = time.Second
	case "m":
		mult = time.Minute
	case "h":
		mult = time.Hour
	case "d":
		mult = 24 * time.Hour
	case "w":
		mult = 7 * 24 * time.Hour
	case "":
		if bare == 0 {
			return 0, fmt.Errorf("interval %q needs a unit (ms, s, m)", v)
		}
		mult = bare
	default:
		return 0, fmt.Errorf("interval %q has unknown unit %q", v, unit)
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || num == "" {
		return 0, fmt.Errorf("interval %q is not a number with a unit", v)
	}
	d := f * float64(mult)
	if (f != 0 && d < 1) || d > float64(1<<62) {
		return 0, fmt.Errorf("interval %q is %w", v, ErrOutOfRange)
	}
	return time.Duration(d), nil
}

// parseList parses `[a, b, c]` (or a single unbracketed entry) into trimmed
// entries, splitting on top-level commas.
func parseList(v string) ([]string, error) {
	if strings.HasPrefix(v, "[") {
		if !strings.HasSuffix(v, "]") {
			return nil, fmt.Errorf("list %q is missing its closing ']'", v)
		}
		v = v[1 : len(v)-1]
	}
	l, err := split(v)
	if err != nil {
		return nil, err
	}
	if len(l) == 0 {
		return nil, fmt.Errorf("list is empty")
	}
	return l, nil
}

// split cuts s on commas outside brackets, parentheses and quotes, trims
// each piece and drops empty ones.
func split(s string) ([]string, error) {
	var out []string
	var stack []byte
	var quote byte
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if quote != 0 {
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
			continue
		}
		switch c {
		case '\'', '"':
			quote = c
		case '[', '(':
			stack = append(stack, c)
		case ']', ')':
			want := byte('[')
			if c == ')' {
				want = '('
			}
			if len(stack) == 0 || stack[len(stack)-1] != want {
				return nil, fmt.Errorf("unbalanced %q at offset %d", c, i)
			}
			stack = stack[:len(stack)-1]
		case ',':
			if len(stack) == 0 {
				if p := strings.TrimSpace(s[start:i]); p != "" {
					out = append(out, p)
				}
				start = i + 1
			}
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated string")
	}
	if len(stack) != 0 {
		return nil, fmt.Errorf("unclosed %q", stack[len(stack)-1])
	}
	if p := strings.TrimSpace(s[start:]); p != "" {
		out = append(out, p)
	}
	return out, nil
}
