package agent

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"ampsflume/flume"
	"ampsflume/flume/config"
)

// strictSource reads three integer keys and reports every bad one; it also
// repeats the problem of key "a" (as two checks of one value would) and
// adds a non-configuration error when "fail" is set.
func init() {
	flume.RegisterSource(flume.Spec{Alias: "strict", Keys: []flume.Key{{Name: "a"}, {Name: "b"}, {Name: "c"}, {Name: "fail"}}},
		func(env flume.SourceEnv) (flume.Source, error) {
			var errs flume.ConfigErrors
			for _, k := range []string{"a", "b", "c"} {
				_, err := env.Config.Int(k, 1)
				errs.Add(err)
			}
			if _, err := env.Config.Int("a", 1); err != nil {
				errs.Add(fmt.Errorf("again: %w", err))
			}
			if env.Config.Has("fail") {
				errs.Add(errors.New("cannot reach the server"))
			}
			if err := errs.Err(); err != nil {
				return nil, err
			}
			return newCounterSourceForTest(env)
		})
}

func newCounterSourceForTest(env flume.SourceEnv) (flume.Source, error) {
	r, _ := flume.Lookup(flume.KindSource, "counter")
	return r.Source(env)
}

// TestCheckReportsEveryKey: several bad keys of one component and bad keys
// of several components are all reported, each once, with file:line and
// key.
func TestCheckReportsEveryKey(t *testing.T) {
	cfg := mustConfig(t, pipeline+`a.sources.r1.type = strict
a.sources.r1.a = x
a.sources.r1.b = y
a.sources.r1.c = z
a.sources.r1.fail = yes
a.channels.c1.capacity = lots
a.sinks.k1.batchSize = 1x
`)
	// Sorted by line; the source's own error is located at its type line.
	want := []string{
		`test.properties:12: source "r1": cannot reach the server`,
		`test.properties:13: source "r1": key "a": "x" is not an integer`,
		`test.properties:14: source "r1": key "b": "y" is not an integer`,
		`test.properties:15: source "r1": key "c": "z" is not an integer`,
		`test.properties:17: channel "c1": key "capacity": "lots" is not an integer`,
		`test.properties:18: sink "k1": key "batchSize": "1x" is not an integer`,
	}
	probs := Check(cfg, Options{Logger: quiet})
	var got []string
	for _, p := range probs {
		got = append(got, p.Err.Error())
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("Check:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	ag := New(Options{Logger: quiet})
	err := ag.Start(context.Background(), cfg)
	var ie *config.InvalidError
	if !errors.As(err, &ie) || len(ie.Problems) != len(want) {
		t.Fatalf("Start: %v", err)
	}
	ag.Stop()
}
