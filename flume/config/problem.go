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

// Dedup returns ps without repeated problems (same severity, location,
// component, key and message), keeping the first of each. Two checks that
// see the same mistake, such as the engine's and a component's check of a
// back-off key, are then reported once.
func (ps Problems) Dedup() Problems {
	type id struct {
		sev                 Severity
		loc                 flume.Location
		component, key, msg string
	}
	seen := make(map[id]bool, len(ps))
	out := ps[:0:0]
	for _, p := range ps {
		k := id{p.Severity, p.Err.Loc, p.Err.Component, p.Err.Key, p.Err.Msg}
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, p)
	}
	return out
}

// AsProblems turns err into problems: a *flume.ConfigError keeps its
// location; an error joining several (errors.Join, flume.ConfigErrors, or
// anything with Unwrap() []error), even under a wrapper that adds context,
// yields one problem per joined error; anything else is attributed to the
// component at loc.
func AsProblems(sev Severity, err error, component string, loc flume.Location) Problems {
	if err == nil {
		return nil
	}
	var ie *InvalidError
	if errors.As(err, &ie) {
		return ie.Problems
	}
	var out Problems
	for _, e := range leaves(err) {
		out = append(out, asProblem(sev, e, component, loc))
	}
	return out
}

// leaves returns the errors joined in err, each as one error: a
// *flume.ConfigError found down a chain of single wrappers stands for the
// chain (its location says more than the wrappers' context), and a chain
// without one is kept whole so that its context stays in the message.
func leaves(err error) []error {
	if _, ok := err.(*flume.ConfigError); ok {
		return []error{err}
	}
	switch u := err.(type) {
	case interface{ Unwrap() []error }:
		var out []error
		for _, e := range u.Unwrap() {
			if e != nil {
				out = append(out, leaves(e)...)
			}
		}
		return out
	case interface{ Unwrap() error }:
		inner := u.Unwrap()
		if inner == nil {
			return []error{err}
		}
		in := leaves(inner)
		if len(in) == 1 {
			if _, ok := in[0].(*flume.ConfigError); !ok {
				return []error{err}
			}
		}
		return in
	}
	return []error{err}
}

func asProblem(sev Severity, err error, component string, loc flume.Location) Problem {
	ce, ok := err.(*flume.ConfigError)
	if !ok {
		return Problem{Severity: sev, Err: &flume.ConfigError{Loc: loc, Component: component, Msg: err.Error()}}
	}
	if ce.Component == "" || ce.Loc == (flume.Location{}) {
		cp := *ce
		if cp.Component == "" {
			cp.Component = component
		}
		if cp.Loc == (flume.Location{}) {
			cp.Loc = loc
		}
		ce = &cp
	}
	return Problem{Severity: sev, Err: ce}
}
