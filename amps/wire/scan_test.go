package wire

import (
	"strings"
	"testing"
)

// scanStringBytewise is the plain definition of scanString, which scans
// eight bytes at a time.
func scanStringBytewise(b []byte, i int) (start, end int, escaped bool, next int, ok bool) {
	start = i + 1
	for j := start; j < len(b); j++ {
		switch b[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			return start, j, escaped, j + 1, true
		}
	}
	return 0, 0, false, 0, false
}

func checkScanString(t *testing.T, in string) {
	t.Helper()
	b := []byte(in)
	s1, e1, x1, n1, ok1 := scanString(b, 0)
	s2, e2, x2, n2, ok2 := scanStringBytewise(b, 0)
	if s1 != s2 || e1 != e2 || x1 != x2 || n1 != n2 || ok1 != ok2 {
		t.Fatalf("scanString(%q) = %d %d %v %d %v, want %d %d %v %d %v", in, s1, e1, x1, n1, ok1, s2, e2, x2, n2, ok2)
	}
}

func TestScanString(t *testing.T) {
	tests := []string{
		`""`, `"a"`, `"abcdefg"`, `"abcdefgh"`, `"abcdefghi"`, `"abcdefghijklmnopq"`,
		`"unterminated`, `"`, `"\"`, `"\\"`, `"a\"b"`, `"abcdefg\"hij"`, `"abcdefgh\\"x`,
		`"1234567\`, `"12345678\`, `"1234567\"`, `"12345678\""`, "\"\xff\xfe\x80\"",
		`"` + strings.Repeat("x", 40) + `"tail`, `"` + strings.Repeat("\\\"", 9) + `"`,
		`"é ü"`, `"\u00e9"`,
	}
	for _, tc := range tests {
		checkScanString(t, tc)
		// The same string at every alignment, and followed by more bytes.
		for pad := 1; pad < 9; pad++ {
			checkScanString(t, tc+strings.Repeat(`"`, pad))
		}
	}
	// Every position of a quote and a backslash in strings around the
	// word size.
	for n := 0; n < 20; n++ {
		for q := 0; q < n; q++ {
			for _, c := range []byte{'"', '\\'} {
				b := []byte(`"` + strings.Repeat("a", n) + `"`)
				b[1+q] = c
				checkScanString(t, string(b))
			}
		}
	}
}

func FuzzScanString(f *testing.F) {
	for _, s := range []string{`"abc"`, `"abcdefgh\"ij"x`, `"\\\\\\\\\\"`, `"12345678`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkScanString(t, `"`+s)
	})
}
