package wire

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"
)

// readAll returns the frames of b (copied) and the error that ended them.
func readAll(r *Reader) ([][]byte, error) {
	var out [][]byte
	for {
		fr, err := r.Next()
		if err != nil {
			return out, err
		}
		out = append(out, append([]byte(nil), fr...))
	}
}

// sameResult compares two readings: the same frames, then the same kind of end.
func sameResult(t *testing.T, what string, a, b [][]byte, ea, eb error) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%s: %d frames vs %d", what, len(a), len(b))
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			t.Fatalf("%s: frame %d: %q vs %q", what, i, a[i], b[i])
		}
	}
	var fa, fb *FrameError
	if (ea == io.EOF) != (eb == io.EOF) || errors.As(ea, &fa) != errors.As(eb, &fb) || (fa != nil && fa.Error() != fb.Error()) {
		t.Fatalf("%s: ended with %v vs %v", what, ea, eb)
	}
}

// Frames that fit in a bufio.Reader's buffer are returned in place; the
// result must be what reading through a plain io.Reader gives.
func TestReaderBufferedMatchesPlain(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 100)
	var stream []byte
	for i := 0; i < 50; i++ {
		stream = AppendFrame(stream, &Header{Command: "p", Topic: "t"}, big[:i*2])
	}
	tests := []struct {
		name string
		in   []byte
	}{
		{"frames", stream},
		{"truncated prefix", append(append([]byte(nil), stream...), 0, 0)},
		{"truncated body", stream[:len(stream)-3]},
		{"oversize", append(append([]byte(nil), stream[:40]...), 0xff, 0xff, 0xff, 0xff)},
		{"empty", nil},
	}
	for _, tc := range tests {
		for _, size := range []int{16, 64, 4096} {
			a, ea := readAll(NewReader(bytes.NewReader(tc.in), 1000))
			b, eb := readAll(NewReader(bufio.NewReaderSize(bytes.NewReader(tc.in), size), 1000))
			sameResult(t, tc.name, a, b, ea, eb)
		}
	}
}

func FuzzReaderBuffered(f *testing.F) {
	f.Add(AppendFrame(AppendFrame(nil, &Header{Command: "p"}, []byte("x")), &Header{}, bytes.Repeat([]byte("y"), 40)), 100, 16)
	f.Add([]byte{0, 0, 0, 1, '{', 0}, 10, 16)
	f.Fuzz(func(t *testing.T, b []byte, max, size int) {
		if max <= 0 || max > 1<<16 {
			max = 1 << 16
		}
		size = 16 + size&1023
		a, ea := readAll(NewReader(bytes.NewReader(b), max))
		c, ec := readAll(NewReader(bufio.NewReaderSize(bytes.NewReader(b), size), max))
		sameResult(t, "fuzz", a, c, ea, ec)
	})
}

func TestReaderReady(t *testing.T) {
	two := AppendFrame(AppendFrame(nil, &Header{Command: "p"}, []byte("a")), &Header{Command: "p"}, []byte("b"))
	first := len(AppendFrame(nil, &Header{Command: "p"}, []byte("a")))
	tests := []struct {
		name string
		in   []byte
		want []bool // Ready before each Next
	}{
		{"two frames", two, []bool{false, true, false}},
		{"second frame partial", two[:len(two)-1], []bool{false, false}},
		{"second prefix partial", two[:first+2], []bool{false, false}},
	}
	for _, tc := range tests {
		r := NewReader(bufio.NewReader(bytes.NewReader(tc.in)), 0)
		for i, want := range tc.want {
			if got := r.Ready(); got != want {
				t.Fatalf("%s: Ready before read %d = %v, want %v", tc.name, i, got, want)
			}
			if _, err := r.Next(); err != nil {
				break
			}
		}
	}
	if NewReader(bytes.NewReader(two), 0).Ready() {
		t.Fatal("Ready without a bufio.Reader")
	}
}
