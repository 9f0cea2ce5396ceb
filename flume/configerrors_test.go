package flume

import (
	"errors"
	"fmt"
	"testing"
)

func TestConfigErrors(t *testing.T) {
	ctx := MapContext(`source "r1"`, map[string]string{"a": "x", "b": "y"})
	tests := []struct {
		name string
		keys []string // keys read with Int; "" adds a nil error
		want []string // keys of the ConfigErrors in Err, in order
	}{
		{"none", nil, nil},
		{"nil errors only", []string{"", ""}, nil},
		{"one", []string{"a"}, []string{"a"}},
		{"two in order", []string{"b", "", "a"}, []string{"b", "a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var errs ConfigErrors
			for _, k := range tt.keys {
				var err error
				if k != "" {
					_, err = ctx.Int(k, 0)
				}
				if got := errs.Add(err); got != (err != nil) {
					t.Fatalf("Add(%v) = %v", err, got)
				}
			}
			err := errs.Err()
			if errs.Len() != len(tt.want) {
				t.Fatalf("Len = %d, want %d", errs.Len(), len(tt.want))
			}
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Err = %v, want nil", err)
				}
				return
			}
			var got []string
			if j, ok := err.(interface{ Unwrap() []error }); ok {
				for _, e := range j.Unwrap() {
					got = append(got, e.(*ConfigError).Key)
				}
			} else {
				// A single error is returned as itself.
				got = []string{err.(*ConfigError).Key}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("keys = %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("keys = %v, want %v", got, tt.want)
				}
			}
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("errors.As finds no *ConfigError in %v", err)
			}
		})
	}
}

func TestKeyFailed(t *testing.T) {
	ctx := MapContext(`sink "k1"`, map[string]string{"a": "x", "b": "y"})
	_, errA := ctx.Int("a", 0)
	_, errB := ctx.Int("b", 0)
	tests := []struct {
		name string
		err  error
		key  string
		want bool
	}{
		{"nil", nil, "a", false},
		{"the key", errA, "a", true},
		{"another key", errA, "b", false},
		{"joined", errors.Join(errA, errB), "b", true},
		{"wrapped join", fmt.Errorf("ctx: %w", errors.Join(errors.New("x"), errB)), "b", true},
		{"joined without it", errors.Join(errA, errors.New("b")), "b", false},
		{"plain error", errors.New("a"), "a", false},
	}
	for _, tt := range tests {
		if got := KeyFailed(tt.err, tt.key); got != tt.want {
			t.Errorf("%s: KeyFailed = %v, want %v", tt.name, got, tt.want)
		}
	}
}
