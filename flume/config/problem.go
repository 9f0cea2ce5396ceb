package config

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"ampsflume/flume"
)

// Severity says whether a problem stops the agent from starting.
type Severity int

const (
	// Error problems refuse the configuration.
	Error Severity = iota
	// Warning problems are reported and the agent starts anyway.
	Warning
)

func (s Severity) String() string {
	if s == Warning {
		return "WARN"
	}
	return "ERROR"
}

// Problem is one configuration problem with its location, component and key.
type Problem struct {
	Severity Severity
	Err      *flume.ConfigError
}

func (p Problem) String() string { return p.Severity.String() + " " + p.Err.Error() }

// Problems is every problem found in a configuration, errors and warnings.
type Problems []Problem

// Errors returns the problems of severity Error.
func (ps Problems) Errors() Problems { return ps.filter(Error) }

// Warnings returns the problems of severity Warning.
func (ps Problems) Warnings() Problems { return ps.filter(Warning) }

func (ps Problems) filter(s Severity) Problems {
	var out Problems
	for _, p := range ps {
		if p.Severity == s {
			out = append(out, p)
		}
	}
	return out
}

// HasErrors reports whether the configuration must be refused.
func (ps Problems) HasErrors() bool { return len(ps.Errors()) > 0 }

// Sort orders problems by file, line, then message, so that a report reads
// top to bottom like the file.
func (ps Problems) Sort() {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i].Err.Loc, ps[j].Err.Loc
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return ps[i].Err.Error() < ps[j].Err.Error()
	})
}

// Err returns nil when there is no error, or an error listing every error
// problem (one per line).
func (ps Problems) Err() error {
	errs := ps.Errors()
	if len(errs) == 0 {
		return nil
	}
	lines := make([]string, len(errs))
	for i, p := range errs {
		lines[i] = p.Err.Error()
	}
	return &InvalidError{Problems: errs, msg: fmt.Sprintf("%d configuration error(s):\n  %s", len(errs), strings.Join(lines, "\n  "))}
}

// InvalidError is returned when a configuration has errors; it carries them
// all.
type InvalidError struct {
	Problems Problems
	msg      string
}

func (e *InvalidError) Error() string { return e.msg }

// AsProblems turns err into problems: a *flume.ConfigError (or several joined
// with errors.Join) keeps its location; anything else is attributed to the
// component at loc.
func AsProblems(sev Severity, err error, component string, loc flume.Location) Problems {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out Problems
		for _, e := range j.Unwrap() {
			out = append(out, AsProblems(sev, e, component, loc)...)
		}
		return out
	}
	var ce *flume.ConfigError
	if errors.As(err, &ce) {
		if ce.Component == "" {
			cp := *ce
			cp.Component = component
			ce = &cp
		}
		if ce.Loc == (flume.Location{}) {
			cp := *ce
			cp.Loc = loc
			ce = &cp
		}
		return Problems{{Severity: sev, Err: ce}}
	}
	var ie *InvalidError
	if errors.As(err, &ie) {
		return ie.Problems
	}
	return Problems{{Severity: sev, Err: &flume.ConfigError{Loc: loc, Component: component, Msg: err.Error()}}}
}
