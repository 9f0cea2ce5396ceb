package seqfile

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
)

// unhex turns a spaced hex dump, with '|' comments to the end of a line,
// into bytes.
func unhex(t *testing.T, dump string) []byte {
	t.Helper()
	var clean strings.Builder
	for _, line := range strings.Split(dump, "\n") {
		line, _, _ = strings.Cut(line, "|")
		clean.WriteString(strings.Join(strings.Fields(line), ""))
	}
	b, err := hex.DecodeString(clean.String())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ascii(s string) string { return hex.EncodeToString([]byte(s)) }

var seq16 = [16]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}

// TestGolden compares tiny files with bytes worked out by hand from the
// published format: what Hadoop's SequenceFile.Writer writes for the same
// classes, records and sync marker. This is the interoperability evidence
// where no Hadoop runtime is at hand.
func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		name       string
		valueClass string
		meta       []Meta
		key, value []byte
		want       string
	}{
		{
			name: "Writable", valueClass: BytesWritableClass,
			key: AppendLongWritable(nil, 1), value: AppendBytesWritable(nil, []byte("hi")),
			want: `
53 45 51 06                        | "SEQ", version 6
21 ` + ascii("org.apache.hadoop.io.LongWritable") + `   | key class: vint 33, UTF-8
22 ` + ascii("org.apache.hadoop.io.BytesWritable") + `  | value class: vint 34
00                                 | not compressed
00                                 | not block-compressed
00 00 00 00                        | no metadata
00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f | sync marker
00 00 00 0e                        | record length 14 = 8 + 6
00 00 00 08                        | key length 8
00 00 00 00 00 00 00 01            | LongWritable 1
00 00 00 02 68 69                  | BytesWritable: int 2, "hi"
ff ff ff ff                        | sync escape (Sync: end of a batch)
00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f`,
		},
		{
			name: "Text", valueClass: TextClass, meta: []Meta{{"k", "v"}},
			key: AppendLongWritable(nil, 1000), value: AppendText(nil, []byte("hi")),
			want: `
53 45 51 06
21 ` + ascii("org.apache.hadoop.io.LongWritable") + `
19 ` + ascii("org.apache.hadoop.io.Text") + `  | value class: vint 25
00 00
00 00 00 01                        | one metadata entry
01 6b 01 76                        | Text "k", Text "v"
00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f
00 00 00 0b                        | record length 11 = 8 + 3
00 00 00 08
00 00 00 00 00 00 03 e8            | LongWritable 1000
02 68 69                           | Text: vint 2, "hi"
ff ff ff ff
00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := unhex(t, tc.want)
			var buf bytes.Buffer
			w, err := NewWriter(&buf, Options{KeyClass: LongWritableClass, ValueClass: tc.valueClass, Sync: seq16, Metadata: tc.meta})
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Append(tc.key, tc.value); err != nil {
				t.Fatal(err)
			}
			if err := w.Sync(); err != nil {
				t.Fatal(err)
			}
			if err := w.Sync(); err != nil { // a second Sync adds nothing
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Fatalf("wrote\n%s\nwant\n%s", hex.Dump(buf.Bytes()), hex.Dump(want))
			}
			// And the hand-made bytes read back.
			_, got := readAll(t, want)
			sameRecords(t, got, []rec{{tc.key, tc.value}})
		})
	}
}

// TestGoldenBlockFraming checks a block-compressed file's framing by hand
// (the compressed bytes themselves are the codec's): after the header, a
// sync escape and marker, the record count, and four length-prefixed zlib
// streams holding the key lengths, keys, value lengths and values.
func TestGoldenBlockFraming(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Options{KeyClass: LongWritableClass, ValueClass: BytesWritableClass,
		Compression: Block, Codec: DefaultCodec, Sync: seq16})
	if err != nil {
		t.Fatal(err)
	}
	for i, body := range []string{"a", "bc"} {
		if err := w.Append(AppendLongWritable(nil, int64(i+1)), AppendBytesWritable(nil, []byte(body))); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	header := unhex(t, `
53 45 51 06
21 `+ascii(LongWritableClass)+`
22 `+ascii(BytesWritableClass)+`
01 01                              | compressed, block-compressed
2a `+ascii("org.apache.hadoop.io.compress.DefaultCodec")+` | codec class: vint 42
00 00 00 00
00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f
ff ff ff ff                        | every block starts with a sync
00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f
02                                 | two records`)
	b := buf.Bytes()
	if !bytes.HasPrefix(b, header) {
		t.Fatalf("wrote\n%s\nwant a prefix\n%s", hex.Dump(b), hex.Dump(header))
	}
	b = b[len(header):]
	var parts []string
	for range 4 {
		n, k, err := DecodeVInt(b)
		if err != nil || k+n > len(b) {
			t.Fatalf("buffer framing: %d %d %v", n, k, err)
		}
		plain, err := (&Reader{codec: DefaultCodec, maxDecompressed: 1 << 20}).decompress(b[k:k+n], "buffer")
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, hex.EncodeToString(plain))
		b = b[k+n:]
	}
	if len(b) != 0 {
		t.Fatalf("%d trailing bytes", len(b))
	}
	want := []string{
		"0808",                                  // key lengths: vint 8, vint 8
		"0000000000000001" + "0000000000000002", // keys
		"0506",                                  // value lengths: 4+1, 4+2
		"0000000161" + "000000026263",           // values
	}
	for i := range want {
		if parts[i] != want[i] {
			t.Errorf("buffer %d = %s, want %s", i, parts[i], want[i])
		}
	}
}
