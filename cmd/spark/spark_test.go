package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"ampsflume/amps"
	"ampsflume/amps/wire"
)

// fakeClock drives the pacer: sleeping advances it.
type fakeClock struct {
	now    time.Time
	sleeps []time.Duration
}

func (c *fakeClock) Now() time.Time { return c.now }
func (c *fakeClock) Sleep(_ context.Context, d time.Duration) error {
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	return nil
}

func TestPacerSchedulesFromStartWithoutDrift(t *testing.T) {
	tests := []struct {
		rate float64
		work time.Duration // time each publish takes
		due  []time.Duration
	}{
		{rate: 1, due: []time.Duration{0, time.Second, 2 * time.Second, 3 * time.Second}},
		{rate: .25, due: []time.Duration{0, 4 * time.Second, 8 * time.Second}},
		{rate: 2, work: 100 * time.Millisecond, due: []time.Duration{0, 500 * time.Millisecond, time.Second, 1500 * time.Millisecond}},
		// Work slower than the rate: no sleeping, and no catching up later
		// beyond the schedule either.
		{rate: 10, work: 300 * time.Millisecond, due: []time.Duration{0, 300 * time.Millisecond, 600 * time.Millisecond}},
	}
	for _, tt := range tests {
		clk := &fakeClock{now: time.Unix(1000, 0)}
		p := newPacer(tt.rate, clk.Now, clk.Sleep)
		start := clk.now
		for n, want := range tt.due {
			if err := p.wait(context.Background(), n); err != nil {
				t.Fatal(err)
			}
			if got := clk.now.Sub(start); got != want {
				t.Fatalf("rate %v: message %d sent at %v, want %v", tt.rate, n, got, want)
			}
			clk.now = clk.now.Add(tt.work)
		}
	}
}

func TestPacerUnlimited(t *testing.T) {
	clk := &fakeClock{now: time.Unix(0, 0)}
	p := newPacer(0, clk.Now, clk.Sleep)
	for n := 0; n < 100; n++ {
		if err := p.wait(context.Background(), n); err != nil {
			t.Fatal(err)
		}
	}
	if len(clk.sleeps) != 0 {
		t.Fatalf("slept %v", clk.sleeps)
	}
}

func TestRateString(t *testing.T) {
	tests := []struct {
		n    int
		d    time.Duration
		want string
	}{
		{100, 2 * time.Second, "50.00"},
		{1, 3 * time.Millisecond, "333.33"},
		{15, 14 * time.Second, "1.07"},
		{1, 0, "Infinity"},
	}
	for _, tt := range tests {
		if got := rateString(tt.n, tt.d); got != tt.want {
			t.Errorf("rateString(%d, %v) = %q, want %q", tt.n, tt.d, got, tt.want)
		}
	}
}

func TestMessagesSplitting(t *testing.T) {
	tests := []struct {
		in    string
		delim byte
		want  []string
	}{
		{"a\nb\n", '\n', []string{"a", "b"}},
		{"a\r\nb", '\n', []string{"a", "b"}},
		{"a\n\n\nb\n", '\n', []string{"a", "b"}},
		{"x;y;z", ';', []string{"x", "y", "z"}},
		{"", '\n', nil},
		{strings.Repeat("q", 200000) + "\nr", '\n', []string{strings.Repeat("q", 200000), "r"}},
	}
	for _, tt := range tests {
		var got []string
		err := messages(strings.NewReader(tt.in), tt.delim, func(b []byte) error {
			got = append(got, string(b))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(tt.want) {
			t.Fatalf("%.20q: got %d messages, want %d", tt.in, len(got), len(tt.want))
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Fatalf("%.20q: message %d = %.20q", tt.in, i, got[i])
			}
		}
	}
}

func TestFormatter(t *testing.T) {
	m := &amps.Message{Header: wire.Header{Command: "sow", Topic: "Orders", SowKey: "k1", Bookmark: "1|2|",
		Timestamp: "20240101T000000.000000Z", CorrelationID: "c", Expiration: "5", LeasePeriod: "lp", UserID: "u"},
		Data: []byte(`{"a":1}`)}
	tests := []struct{ format, want string }{
		{"", `{"a":1}`},
		{"{command}:{data}", `sow:{"a":1}`},
		{"{topic} {sowkey} {bookmark} {timestamp} {length} {correlation_id} {expiration} {lease_period} {user_id}",
			"Orders k1 1|2| 20240101T000000.000000Z 7 c 5 lp u"},
		{"{unknown}", "{unknown}"},
	}
	for _, tt := range tests {
		if got := (formatter{tt.format}).render(m); got != tt.want {
			t.Errorf("%q: %q, want %q", tt.format, got, tt.want)
		}
	}
}

func TestURIFromFlags(t *testing.T) {
	tests := []struct {
		o    opts
		want string
		err  bool
	}{
		{o: opts{server: "localhost:9007", msgType: "json"}, want: "tcp://localhost:9007/amps/json"},
		{o: opts{server: "bob:pw@localhost:9007", msgType: "json"}, want: "tcp://bob:pw@localhost:9007/amps/json"},
		{o: opts{server: "h:1", msgType: "xml", secure: true}, want: "tcps://h:1/amps/xml"},
		{o: opts{server: "h:1", msgType: "json", uriOpts: "tcp_nodelay=true"}, want: "tcp://h:1/amps/json?tcp_nodelay=true"},
		{o: opts{server: "h:1", msgType: "json", uriScheme: "tcps"}, want: "tcps://h:1/amps/json"},
		{o: opts{server: "localhost", msgType: "json"}, err: true},
		{o: opts{server: "tcp://h:1", msgType: "json"}, err: true},
	}
	for _, tt := range tests {
		got, err := tt.o.uri()
		if tt.err {
			var ue *usageError
			if !errors.As(err, &ue) {
				t.Errorf("%q: err %v, want a usage error", tt.o.server, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%q: %q, %v; want %q", tt.o.server, got, err, tt.want)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		code int
		msg  string
	}{
		{nil, 2, "usage"},
		{[]string{"frobnicate"}, 2, "unknown command"},
		{[]string{"publish", "-topic", "t"}, 2, "-server is required"},
		{[]string{"sow", "-server", "h:1"}, 2, "-topic is required"},
		{[]string{"publish", "-server", "h:1", "-topic", "t", "-rate", "-1"}, 2, "-rate"},
		{[]string{"publish", "-server", "h:1", "-topic", "t", "-delimiter", "300"}, 2, "delimiter"},
		{[]string{"sow", "-server", "h:1", "-topic", "t", "-proto", "fix"}, 2, "not supported"},
		{[]string{"sow", "-server", "h:1", "-topic", "t", "-nosuchflag"}, 2, "nosuchflag"},
		{[]string{"ping", "-server", "h:1", "stray"}, 2, "unexpected argument"},
		{[]string{"help"}, 0, ""},
		{[]string{"help", "publish"}, 0, ""},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		code := run(context.Background(), tt.args, strings.NewReader(""), &out, &errOut)
		if code != tt.code || !strings.Contains(errOut.String()+out.String(), tt.msg) {
			t.Errorf("%v: code %d, stderr %q", tt.args, code, errOut.String())
		}
	}
}
