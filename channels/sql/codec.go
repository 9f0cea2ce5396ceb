package sql

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// Headers are stored in one column as a count followed by length-prefixed
// keys and values, all lengths unsigned varints. Unlike JSON this keeps any
// byte sequence a Go string may hold, and decoding needs no allocation beyond
// the strings themselves. Keys are written sorted so equal maps encode
// equally.

// maxHeaders bounds the count read from a column, so that a corrupt row
// cannot make the decoder allocate a huge map.
const maxHeaders = 1 << 16

var errHeaders = errors.New("corrupt headers column")

// encodeHeaders appends the encoding of h to dst.
func encodeHeaders(dst []byte, h map[string]string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(h)))
	if len(h) == 0 {
		return dst
	}
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := h[k]
		dst = binary.AppendUvarint(dst, uint64(len(k)))
		dst = append(dst, k...)
		dst = binary.AppendUvarint(dst, uint64(len(v)))
		dst = append(dst, v...)
	}
	return dst
}

// decodeHeaders parses a headers column. It never returns a nil map.
func decodeHeaders(b []byte) (map[string]string, error) {
	n, w := binary.Uvarint(b)
	if w <= 0 {
		return nil, fmt.Errorf("%w: bad count", errHeaders)
	}
	b = b[w:]
	// Each header needs at least two bytes, which bounds a believable count.
	if n > maxHeaders || n > uint64(len(b)/2) {
		return nil, fmt.Errorf("%w: count %d for %d bytes", errHeaders, n, len(b))
	}
	h := make(map[string]string, n)
	for i := range n {
		var k, v string
		var err error
		if k, b, err = readString(b); err != nil {
			return nil, fmt.Errorf("%w: key %d: %v", errHeaders, i, err)
		}
		if v, b, err = readString(b); err != nil {
			return nil, fmt.Errorf("%w: value of %q: %v", errHeaders, k, err)
		}
		if _, dup := h[k]; dup {
			return nil, fmt.Errorf("%w: key %q twice", errHeaders, k)
		}
		h[k] = v
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", errHeaders, len(b))
	}
	return h, nil
}

func readString(b []byte) (string, []byte, error) {
	n, w := binary.Uvarint(b)
	if w <= 0 {
		return "", nil, errors.New("bad length")
	}
	b = b[w:]
	if n > uint64(len(b)) {
		return "", nil, fmt.Errorf("length %d beyond the %d bytes left", n, len(b))
	}
	return string(b[:n]), b[n:], nil
}
