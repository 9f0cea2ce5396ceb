package filter

import (
	"testing"
	"time"
)

func TestUnixTimestampUsesInjectedClock(t *testing.T) {
	clock := time.Date(2024, 3, 21, 22, 9, 52, 535075000, time.UTC)
	opts := Options{Now: func() time.Time { return clock }}
	e, err := opts.CompileExpr("UNIX_TIMESTAMP()")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := e.Eval(nil).String(), "1.711058992535075e+09"; got != want {
		t.Fatalf("UNIX_TIMESTAMP() = %s, want %s", got, want)
	}
	f, err := opts.Compile("/expires > UNIX_TIMESTAMP()")
	if err != nil {
		t.Fatal(err)
	}
	if !f.Match([]byte(`{"expires":1711059000}`)) || f.Match([]byte(`{"expires":1711058000}`)) {
		t.Fatal("comparison with the injected clock is wrong")
	}
	clock = clock.Add(time.Hour)
	if f.Match([]byte(`{"expires":1711059000}`)) {
		t.Fatal("the clock is read at compile time, not at evaluation")
	}
}

func TestDeterministic(t *testing.T) {
	tests := []struct {
		expr string
		want bool
	}{
		{"/a = 1", true},
		{"UPPER(/a) = 'X' AND /b IN (1, 2)", true},
		{"/t > UNIX_TIMESTAMP() - 60", false},
		{"IF(/a, 1, UNIX_TIMESTAMP())", false},
	}
	for _, tt := range tests {
		f, err := Compile(tt.expr)
		if err != nil {
			t.Fatal(err)
		}
		e, err := CompileExpr(tt.expr)
		if err != nil {
			t.Fatal(err)
		}
		if f.Deterministic() != tt.want || e.Deterministic() != tt.want {
			t.Errorf("Deterministic(%q) = %v/%v, want %v", tt.expr, f.Deterministic(), e.Deterministic(), tt.want)
		}
	}
}
