package sql

import (
	"errors"
	"maps"
	"testing"
)

func TestHeadersRoundTrip(t *testing.T) {
	for _, h := range []map[string]string{
		nil,
		{},
		{"k": "v"},
		{"": "", "empty": "", "bin": "\x00\xff\xfe", "utf8": "héllo", "long": string(make([]byte, 300))},
	} {
		b := encodeHeaders(nil, h)
		got, err := decodeHeaders(b)
		if err != nil {
			t.Fatalf("decode(encode(%q)): %v", h, err)
		}
		if got == nil || !maps.Equal(got, h) && !(len(h) == 0 && len(got) == 0) {
			t.Fatalf("decode(encode(%q)) = %q", h, got)
		}
		if string(encodeHeaders(nil, got)) != string(b) {
			t.Fatalf("encoding of %q is not canonical", h)
		}
	}
}

func TestHeadersCorrupt(t *testing.T) {
	for _, b := range [][]byte{
		nil,
		{0x80},                               // unterminated count
		{1},                                  // count without header
		{1, 1, 'k'},                          // no value
		{1, 2, 'k', 0},                       // key longer than left
		{1, 1, 'k', 0, 0},                    // trailing byte
		{2, 1, 'k', 0, 1, 'k', 0},            // duplicate key
		{0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0}, // huge count
	} {
		if h, err := decodeHeaders(b); !errors.Is(err, errHeaders) {
			t.Errorf("decodeHeaders(%x) = %q, %v; want a corrupt-headers error", b, h, err)
		}
	}
}

func FuzzDecodeHeaders(f *testing.F) {
	f.Add(encodeHeaders(nil, map[string]string{"a": "b", "c": ""}))
	f.Add([]byte{0})
	f.Add([]byte{1, 1, 'k', 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := decodeHeaders(b)
		if err != nil {
			return
		}
		// Whatever decodes re-encodes to a form that decodes to the same.
		again, err := decodeHeaders(encodeHeaders(nil, h))
		if err != nil || !maps.Equal(h, again) {
			t.Fatalf("re-decode of %q: %q, %v", h, again, err)
		}
	})
}
