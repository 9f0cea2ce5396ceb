package amps

import (
	"errors"
	"testing"
	"time"
)

func TestDefaultServerChooser(t *testing.T) {
	c := NewDefaultServerChooser("a", "b", "c")
	var got []string
	for i := 0; i < 5; i++ {
		got = append(got, c.CurrentURI())
		c.ReportFailure(errors.New("down"))
	}
	c.ReportSuccess()
	if want := "a b c a b"; join(got) != want {
		t.Fatalf("order %q, want %q", join(got), want)
	}
	if NewDefaultServerChooser().CurrentURI() != "" {
		t.Fatal("empty chooser returned a URI")
	}
}

func join(s []string) string {
	out := ""
	for i, v := range s {
		if i > 0 {
			out += " "
		}
		out += v
	}
	return out
}

func TestExponentialDelay(t *testing.T) {
	d := NewExponentialDelay()
	d.Rand = func() float64 { return 0 }
	for _, tc := range []struct {
		failures int
		want     time.Duration
	}{
		{0, 0},
		{1, 200 * time.Millisecond},
		{2, 400 * time.Millisecond},
		{3, 800 * time.Millisecond},
		{7, 12800 * time.Millisecond},
		{8, 20 * time.Second},
		{1000, 20 * time.Second},
	} {
		if got := d.Delay(tc.failures); got != tc.want {
			t.Errorf("Delay(%d) = %v, want %v", tc.failures, got, tc.want)
		}
	}
	d.Rand = func() float64 { return 0.5 }
	if got := d.Delay(1); got != 300*time.Millisecond {
		t.Errorf("jittered Delay(1) = %v, want 300ms", got)
	}
	if got := d.Delay(50); got != 20*time.Second {
		t.Errorf("jitter pushed Delay past Max: %v", got)
	}
}
