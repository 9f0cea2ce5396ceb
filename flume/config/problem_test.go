package config

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"ampsflume/flume"
)

// A source whose factory checks its batch against the built channels itself.
func init() {
	flume.RegisterSource(flume.Spec{Alias: "selfcheck", Keys: []flume.Key{
		{Name: "maxBatch", Type: "int", Default: "1000", ChannelChecked: true},
	}}, nil)
}

func TestAsProblemsFlattens(t *testing.T) {
	ctx := flume.NewContext(`source "r1"`, flume.Location{File: "f", Line: 1}, map[string]flume.Property{
		"a": {Value: "x", Loc: flume.Location{File: "f", Line: 2}},
		"b": {Value: "y", Loc: flume.Location{File: "f", Line: 3}},
	})
	errA := ctx.Errorf("a", "bad a")
	errB := ctx.Errorf("b", "bad b")
	plain := errors.New("cannot open")
	bare := &flume.ConfigError{Key: "c", Msg: "bad c"} // no location, no component
	tests := []struct {
		name string
		err  error
		want []string
	}{
		{"nil", nil, nil},
		{"one", errA, []string{`f:2: source "r1": key "a": bad a`}},
		{"joined", errors.Join(errA, errB), []string{`f:2: source "r1": key "a": bad a`, `f:3: source "r1": key "b": bad b`}},
		{"collected", func() error {
			var errs flume.ConfigErrors
			errs.Add(errA)
			errs.Add(plain)
			errs.Add(errB)
			return errs.Err()
		}(), []string{`f:2: source "r1": key "a": bad a`, `f:1: source "r1": cannot open`, `f:3: source "r1": key "b": bad b`}},
		{"joined under context", fmt.Errorf("parsing: %w", errors.Join(errA, errB)), []string{`f:2: source "r1": key "a": bad a`, `f:3: source "r1": key "b": bad b`}},
		{"nested joins", errors.Join(errA, errors.Join(errB, bare)), []string{`f:2: source "r1": key "a": bad a`, `f:3: source "r1": key "b": bad b`, `f:1: source "r1": key "c": bad c`}},
		{"wrapped ConfigError", fmt.Errorf("ctx: %w", errA), []string{`f:2: source "r1": key "a": bad a`}},
		{"wrapped plain error keeps its context", fmt.Errorf("dialing: %w", plain), []string{`f:1: source "r1": dialing: cannot open`}},
		{"two %w", fmt.Errorf("%w and %w", errA, plain), []string{`f:2: source "r1": key "a": bad a`, `f:1: source "r1": cannot open`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := AsProblems(Error, tt.err, `source "r1"`, flume.Location{File: "f", Line: 1})
			if len(got) != len(tt.want) {
				t.Fatalf("got %d problems, want %d:\n%s", len(got), len(tt.want), list(got))
			}
			for i, w := range tt.want {
				if got[i].Err.Error() != w || got[i].Severity != Error {
					t.Errorf("problem %d = %s, want ERROR %s", i, got[i], w)
				}
			}
		})
	}
}

func TestDedup(t *testing.T) {
	p := func(sev Severity, line int, key, msg string) Problem {
		return Problem{Severity: sev, Err: &flume.ConfigError{Loc: flume.Location{File: "f", Line: line}, Component: `sink "k"`, Key: key, Msg: msg}}
	}
	in := Problems{
		p(Error, 1, "a", "bad"),
		p(Error, 1, "a", "bad"), // the same
		p(Warning, 1, "a", "bad"),
		p(Error, 2, "a", "bad"),
		p(Error, 1, "b", "bad"),
		p(Error, 1, "a", "worse"),
		p(Error, 2, "a", "bad"), // the same as the fourth
	}
	got := in.Dedup()
	want := Problems{in[0], in[2], in[3], in[4], in[5]}
	if len(got) != len(want) {
		t.Fatalf("Dedup kept %d, want %d:\n%s", len(got), len(want), list(got))
	}
	for i := range want {
		if got[i].String() != want[i].String() {
			t.Errorf("problem %d = %s, want %s", i, got[i], want[i])
		}
	}
	if len(in) != 7 {
		t.Fatal("Dedup changed its receiver")
	}
}

// TestBatchCheckSkipsChannelChecked: a batch key its component checks itself
// is left to the component, so that the problem is reported once; the same
// key of a component that does not is still checked.
func TestBatchCheckSkipsChannelChecked(t *testing.T) {
	batchProblems := func(text string) []string {
		var out []string
		for _, p := range check(t, text, nil).Errors() {
			if strings.Contains(p.Err.Msg, "transactionCapacity") {
				out = append(out, p.Err.Error())
			}
		}
		return out
	}
	self := replaceLine(4, "a.sources.r1.type = selfcheck")
	if got := batchProblems(self); len(got) != 0 {
		t.Errorf("default maxBatch of a self-checking source reported here too: %q", got)
	}
	if got := batchProblems(self + "a.sources.r1.maxBatch = 5000\n"); len(got) != 0 {
		t.Errorf("maxBatch of a self-checking source reported here too: %q", got)
	}
	other := replaceLine(4, "a.sources.r1.type = amps") + "a.sources.r1.clientName = x\n"
	if got := batchProblems(other); len(got) != 1 || !strings.Contains(got[0], `key "maxBatch": defaults to 1000`) {
		t.Errorf("maxBatch of a source without its own check: %q, want one problem", got)
	}
}
