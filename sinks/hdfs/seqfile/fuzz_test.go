package seqfile

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzReader: any input is read to a clean end or refused with an error,
// without panicking or allocating beyond the input and the decompression
// limit; what the writer makes of the records read comes back the same.
func FuzzReader(f *testing.F) {
	for _, l := range layouts {
		var buf bytes.Buffer
		w, err := NewWriter(&buf, Options{KeyClass: LongWritableClass, ValueClass: BytesWritableClass,
			Compression: l.comp, Codec: l.codec, Sync: seq16, BlockSize: 64, SyncInterval: 60,
			Metadata: []Meta{{"a", "b"}}})
		if err != nil {
			f.Fatal(err)
		}
		for i := range 6 {
			r := kv(i, i*5)
			_ = w.Append(r.key, r.value)
			if i == 3 {
				_ = w.Sync()
			}
		}
		_ = w.Close()
		f.Add(buf.Bytes())
		f.Add(buf.Bytes()[:buf.Len()/2])
	}
	f.Add([]byte("SEQ\x06"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(bytes.NewReader(data), WithMaxDecompressed(1<<20))
		if err != nil {
			return
		}
		var recs []rec
		for len(recs) < 10000 {
			k, v, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return
			}
			recs = append(recs, rec{k, v})
		}
		// Re-encode what was read in the same layout and read it again.
		h := r.Header()
		var codec *Codec
		if h.Compression != None {
			codec, _ = LookupCodec(h.CodecClass)
		}
		var buf bytes.Buffer
		w, err := NewWriter(&buf, Options{KeyClass: h.KeyClass, ValueClass: h.ValueClass, Compression: h.Compression,
			Codec: codec, Metadata: h.Metadata, Sync: h.Sync})
		if err != nil {
			if h.KeyClass == "" || h.ValueClass == "" {
				return
			}
			t.Fatal(err)
		}
		for _, rc := range recs {
			if err := w.Append(rc.key, rc.value); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		_, again := readAll(t, buf.Bytes())
		sameRecords(t, again, recs)
	})
}
