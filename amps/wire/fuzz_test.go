package wire

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"
)

func FuzzParseHeader(f *testing.F) {
	for _, s := range []string{`{"c":"p","t":"x","s":1}`, `{"filter":"\u00e9\"","bs":"3"}`, `{}`, ` {"a":null,"b":true}`, `{"l":4}abcd`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var h Header
		n, err := ParseHeader(b, &h)
		if err != nil {
			var fe *FrameError
			if !errors.As(err, &fe) {
				t.Fatalf("error of type %T", err)
			}
			return
		}
		if n <= 0 || n > len(b) {
			t.Fatalf("consumed %d of %d", n, len(b))
		}
		// Whatever parses must survive an encode/parse round trip
		// (aliases collapse to canonical keys).
		enc := AppendHeader(nil, &h)
		var h2 Header
		if _, err := ParseHeader(enc, &h2); err != nil {
			t.Fatalf("re-parse of %s: %v", enc, err)
		}
		if h.Heartbeat != "" {
			h2.Heartbeat = h.Heartbeat // input-only field, never encoded
		}
		if !reflect.DeepEqual(h, h2) {
			t.Fatalf("round trip\n in  %q\n got %+v\nwant %+v", enc, h2, h)
		}
	})
}

func FuzzReader(f *testing.F) {
	f.Add(AppendFrame(nil, &Header{Command: "p"}, []byte("x")), 100)
	f.Add([]byte{0, 0, 0, 1, '{'}, 10)
	f.Add([]byte{0xff, 0, 0, 0}, 1000)
	f.Fuzz(func(t *testing.T, b []byte, max int) {
		if max <= 0 || max > 1<<16 {
			max = 1 << 16
		}
		r := NewReader(bytes.NewReader(b), max)
		for {
			fr, err := r.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				var fe *FrameError
				if !errors.As(err, &fe) {
					t.Fatalf("error of type %T", err)
				}
				return
			}
			if len(fr) > max {
				t.Fatalf("frame of %d bytes exceeds %d", len(fr), max)
			}
			var h Header
			_, _ = ParseMessage(fr, &h)
		}
	})
}

func FuzzForEachRecord(f *testing.F) {
	f.Add(AppendSOWRecord(AppendSOWRecord(nil, &Header{SowKey: "1"}, []byte("ab")), &Header{}, nil))
	f.Add([]byte(`{"l":3}ab`))
	f.Fuzz(func(t *testing.T, b []byte) {
		total := 0
		_ = ForEachRecord(b, func(h *Header, data []byte) error {
			if len(data) != h.Length {
				t.Fatalf("data %d bytes, l=%d", len(data), h.Length)
			}
			total += len(data)
			return nil
		})
		if total > len(b) {
			t.Fatalf("records total %d > payload %d", total, len(b))
		}
	})
}
