package scenario

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func body(seq int64, sym int) []byte {
	p := newPayload()
	p.set(seq, sym)
	return append([]byte(nil), p...)
}

func TestPayload(t *testing.T) {
	p := newPayload()
	p.set(1234567, 2)
	p.setTS(1_700_000_000_123_456_789)
	if len(p) != PayloadSize {
		t.Fatalf("size %d", len(p))
	}
	if s, ok := seqOf(p); !ok || s != 1234567 {
		t.Errorf("seq %d %v", s, ok)
	}
	if ts, ok := tsOf(p); !ok || ts != 1_700_000_000_123_456_789 {
		t.Errorf("ts %d %v", ts, ok)
	}
	if symOf(p) != 2 || !strings.Contains(string(p), `"symbol":"GOOG"`) {
		t.Errorf("symbol: %s", p)
	}
}

func TestCounter(t *testing.T) {
	tests := []struct {
		name    string
		sym     int
		step    int64
		seqs    []int64
		syms    []int
		wantErr string
	}{
		{name: "all in order", sym: -1, step: 1, seqs: []int64{0, 1, 2, 3}, syms: []int{0, 1, 2, 3}},
		{name: "first lost", sym: -1, step: 1, seqs: []int64{1, 2}, syms: []int{1, 2}, wantErr: "lost or reordered"},
		{name: "middle lost", sym: -1, step: 1, seqs: []int64{0, 2}, syms: []int{0, 2}, wantErr: "lost or reordered"},
		{name: "duplicate", sym: -1, step: 1, seqs: []int64{0, 1, 1}, syms: []int{0, 1, 1}, wantErr: "lost or reordered"},
		{name: "filtered share", sym: 2, step: 4, seqs: []int64{2, 6, 10}, syms: []int{2, 2, 2}},
		{name: "filtered first lost", sym: 2, step: 4, seqs: []int64{6, 10}, syms: []int{2, 2}, wantErr: "lost or reordered"},
		{name: "wrong symbol", sym: 1, step: 4, seqs: []int64{1}, syms: []int{2}, wantErr: "symbol"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newCounter(tc.sym, tc.step)
			for i, s := range tc.seqs {
				c.add(body(s, tc.syms[i]))
			}
			if tc.wantErr == "" {
				if c.invalid != nil || c.n != int64(len(tc.seqs)) || c.bytes != int64(len(tc.seqs))*PayloadSize {
					t.Fatalf("n=%d bytes=%d err=%v", c.n, c.bytes, c.invalid)
				}
				return
			}
			if c.invalid == nil || !strings.Contains(c.invalid.Error(), tc.wantErr) {
				t.Fatalf("err %v, want %q", c.invalid, tc.wantErr)
			}
		})
	}
	c := newCounter(-1, 1)
	c.add([]byte("short"))
	if c.invalid == nil {
		t.Fatal("malformed body accepted")
	}
}

// TestTailer appends lines in pieces that split lines, as a writer racing
// the reader does, and checks the tailer reassembles and counts them.
func TestTailer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var all []byte
	for i := int64(0); i < 50; i++ {
		all = append(append(all, body(i, int(i%4))...), '\n')
	}
	tl := newTailer(fixedPath(path), 50, false)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	go tl.run(ctx)
	for off := 0; off < len(all); off += 37 {
		if _, err := f.Write(all[off:min(off+37, len(all))]); err != nil {
			t.Fatal(err)
		}
	}
	if err := tl.wait(ctx, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if tl.c.n != 50 || tl.c.bytes != 50*PayloadSize {
		t.Fatalf("n=%d bytes=%d", tl.c.n, tl.c.bytes)
	}
}

func TestTailerReportsAGap(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out")
	var data []byte
	for _, s := range []int64{0, 1, 3} {
		data = append(append(data, body(s, 0)...), '\n')
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	tl := newTailer(fixedPath(path), 3, false)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	go tl.run(ctx)
	if err := tl.wait(ctx, 30*time.Second); err == nil || !strings.Contains(err.Error(), "lost") {
		t.Fatalf("err = %v", err)
	}
}

func TestPercentiles(t *testing.T) {
	var xs []time.Duration
	for i := 1000; i >= 1; i-- {
		xs = append(xs, time.Duration(i))
	}
	q := percentiles(xs, 0.5, 0.99, 0.999, 1)
	if q[0] != 501 || q[1] != 991 || q[2] != 1000 || q[3] != 1000 {
		t.Fatalf("%v", q)
	}
}
