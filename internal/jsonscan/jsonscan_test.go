package jsonscan

import "testing"

func TestSkipValue(t *testing.T) {
	tests := []struct {
		doc  string
		at   int
		want int
	}{
		{`"abc",1`, 0, 5},
		{`"a\"b" `, 0, 6},
		{`"a\\"x`, 0, 5},
		{`123,`, 0, 3},
		{`-1.5e3}`, 0, 6},
		{`true]`, 0, 4},
		{`null `, 0, 4},
		{`{"a":[1,{"b":"}"}]},2`, 0, 19},
		{`[[],[{}]] `, 0, 9},
		{`{"a":1`, 0, 6}, // truncated: stops at the end
		{` "x"`, 1, 4},
	}
	for _, tt := range tests {
		if got := SkipValue([]byte(tt.doc), tt.at); got != tt.want {
			t.Errorf("SkipValue(%q, %d) = %d, want %d", tt.doc, tt.at, got, tt.want)
		}
	}
}

func TestSkipSpace(t *testing.T) {
	if got := SkipSpace([]byte(" \t\r\n x"), 0); got != 5 {
		t.Errorf("SkipSpace = %d, want 5", got)
	}
	if got := SkipSpace([]byte("   "), 1); got != 3 {
		t.Errorf("SkipSpace at the end = %d, want 3", got)
	}
}

func FuzzSkipValue(f *testing.F) {
	for _, s := range []string{`{"a":[1,2]}`, `"x\"y"`, `12`, `[`, `"\`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := []byte(s)
		if len(b) == 0 {
			return
		}
		if n := SkipValue(b, 0); n < 0 || n > len(b) {
			t.Fatalf("SkipValue(%q) = %d, outside [0, %d]", s, n, len(b))
		}
	})
}
