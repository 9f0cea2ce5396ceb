package poll

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// recorder is a testing.TB whose Fatal records the failure and ends the
// goroutine, as the real one does.
type recorder struct {
	testing.TB
	failed string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatal(args ...any) {
	r.failed = args[0].(error).Error()
	panic(r)
}

func run(total time.Duration, fn func() error) (failed string) {
	r := &recorder{}
	defer func() {
		if p := recover(); p != nil && p != any(r) {
			panic(p)
		}
		failed = r.failed
	}()
	Until(r, total, fn)
	return ""
}

func TestUntil(t *testing.T) {
	calls := 0
	if failed := run(time.Minute, func() error {
		calls++
		if calls < 3 {
			return errors.New("not yet")
		}
		return nil
	}); failed != "" || calls != 3 {
		t.Fatalf("failed %q after %d calls, want success on the third", failed, calls)
	}
	n := 0
	if failed := run(-time.Second, func() error {
		n++
		return errors.New("never: call " + strings.Repeat("x", n))
	}); failed != "never: call x" {
		t.Fatalf("with no time left: failed %q, want the first call's error", failed)
	}
}

func TestNamed(t *testing.T) {
	errNotYet := errors.New("not yet")
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"holds", nil, ""},
		{"fails", errNotYet, "replica caught up: not yet"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Named("replica caught up", func() error { return tc.err })()
			switch {
			case tc.err == nil && err != nil:
				t.Fatalf("err %v, want nil", err)
			case tc.err != nil && (err == nil || err.Error() != tc.want || !errors.Is(err, tc.err)):
				t.Fatalf("err %v, want %q wrapping %v", err, tc.want, tc.err)
			}
		})
	}
}
