package flume

import (
	"context"
	"errors"
	"testing"
)

// capChannel is a channel that only reports a transactionCapacity.
type capChannel struct{ txCap int }

func (capChannel) Start(context.Context) error { return nil }
func (capChannel) Stop() error                 { return nil }
func (capChannel) NewTransaction() Transaction { return nil }
func (capChannel) Capacity() int               { return 0 }
func (c capChannel) TransactionCapacity() int  { return c.txCap }
func (capChannel) Size() int                   { return 0 }

func TestSinkEnvCheckBatch(t *testing.T) {
	decl := Location{File: "a.conf", Line: 3}
	props := func(kv ...string) map[string]Property {
		m := map[string]Property{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = Property{Value: kv[i+1], Loc: Location{File: "a.conf", Line: 10 + i/2}}
		}
		return m
	}
	withChannel := props("channel", "c1", "batchSize", "500")
	tests := []struct {
		name      string
		component string
		props     map[string]Property
		ch        Channel
		batch     int
		parseErr  error
		want      string // "" for no error
	}{
		{"below", `sink "k1"`, withChannel, capChannel{1000}, 500, nil, ""},
		{"equal", `sink "k1"`, withChannel, capChannel{500}, 500, nil, ""},
		{"above, set", `sink "k1"`, withChannel, capChannel{100}, 500, nil,
			`a.conf:11: sink "k1": key "batchSize": is 500, more than the transactionCapacity 100 of channel "c1"; every transaction would fail: lower batchSize or raise that transactionCapacity`},
		{"above, default", `sink "k1"`, props("channel", " c1 "), capChannel{10}, 100, nil,
			`a.conf:3: sink "k1": key "batchSize": defaults to 100, more than the transactionCapacity 10 of channel "c1"; every transaction would fail: lower batchSize or raise that transactionCapacity`},
		{"no channel key", `sink "k1"`, props("batchSize", "500"), capChannel{100}, 500, nil,
			`a.conf:10: sink "k1": key "batchSize": is 500, more than the transactionCapacity 100 of the sink's channel; every transaction would fail: lower batchSize or raise that transactionCapacity`},
		{"context without component", "", withChannel, capChannel{100}, 500, nil,
			`a.conf:11: sink "k1": key "batchSize": is 500, more than the transactionCapacity 100 of channel "c1"; every transaction would fail: lower batchSize or raise that transactionCapacity`},
		{"key already failed", `sink "k1"`, withChannel, capChannel{10}, 100,
			errors.Join(errors.New("other"), &ConfigError{Key: "batchSize", Msg: "bad"}), ""},
		{"another key failed", `sink "k1"`, withChannel, capChannel{100}, 500,
			&ConfigError{Key: "hostname", Msg: "is required"},
			`a.conf:11: sink "k1": key "batchSize": is 500, more than the transactionCapacity 100 of channel "c1"; every transaction would fail: lower batchSize or raise that transactionCapacity`},
		{"no channel", `sink "k1"`, withChannel, nil, 500, nil, ""},
		{"unknown transactionCapacity", `sink "k1"`, withChannel, capChannel{0}, 500, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := SinkEnv{Name: "k1", Config: NewContext(tt.component, decl, tt.props), Channel: tt.ch}
			err := env.CheckBatch("batchSize", tt.batch, tt.parseErr)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("CheckBatch = %v, want nil", err)
				}
				return
			}
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Key != "batchSize" {
				t.Fatalf("CheckBatch = %#v, want a *ConfigError about batchSize", err)
			}
			if got := err.Error(); got != tt.want {
				t.Fatalf("CheckBatch =\n  %s\nwant\n  %s", got, tt.want)
			}
		})
	}
}

// A sink factory collects the check with its other problems in one run.
func TestSinkEnvCheckBatchJoins(t *testing.T) {
	ctx := MapContext(`sink "k1"`, map[string]string{"channel": "c1", "batchSize": "50", "port": "x"})
	env := SinkEnv{Name: "k1", Config: ctx, Channel: capChannel{10}}
	var errs ConfigErrors
	_, err := ctx.Int("port", 0)
	errs.Add(err)
	errs.Add(env.CheckBatch("batchSize", 50, err))
	if errs.Len() != 2 || !KeyFailed(errs.Err(), "port") || !KeyFailed(errs.Err(), "batchSize") {
		t.Fatalf("errors = %v, want one about port and one about batchSize", errs.Err())
	}
}
