package serializer

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/hamba/avro/v2/ocf"

	"ampsflume/flume"
)

func cfg(kv map[string]string) *flume.Context { return flume.MapContext(`sink "k"`, kv) }

func write(t *testing.T, name string, kv map[string]string, events ...*flume.Event) []byte {
	t.Helper()
	var buf bytes.Buffer
	s, err := New(name, cfg(kv), &buf)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AfterCreate(); err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if err := s.Write(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := s.BeforeClose(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestText(t *testing.T) {
	e1 := flume.NewEvent([]byte("hello"), map[string]string{"b": "2", "a": "1"})
	e2 := flume.NewEvent([]byte("world"), nil)
	for _, tc := range []struct {
		name string
		kv   map[string]string
		want string
	}{
		{"text", nil, "hello\nworld\n"},
		{"TEXT", map[string]string{"appendNewline": "false"}, "helloworld"},
		{"org.apache.flume.serialization.BodyTextEventSerializer$Builder", nil, "hello\nworld\n"},
		{"header_and_text", nil, "{a=1, b=2} hello\n{} world\n"},
		{"header_and_text", map[string]string{"appendNewline": "false"}, "{a=1, b=2} hello{} world"},
		{"org.apache.flume.serialization.HeaderAndBodyTextEventSerializer$Builder", nil, "{a=1, b=2} hello\n{} world\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := string(write(t, tc.name, tc.kv, e1, e2))
			if got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name, key, val string
		wantErr        string
	}{
		{"text", "", "", ""},
		{"nope", "", "", `unknown serializer "nope"`},
		{"text", "serializer.appendNewline", "maybe", `"maybe" is not true or false`},
		{"avro_event", "serializer.compressionCodec", "lzo", `unknown Avro codec "lzo"`},
		{"avro_event", "serializer.compressionCodec", "deflate", ""},
		{"avro_event", "serializer.syncIntervalBytes", "0", "out of range"},
		{"AVRO_EVENT", "serializer.syncIntervalBytes", "4096", ""},
	} {
		t.Run(tc.name+tc.key, func(t *testing.T) {
			kv := map[string]string{"serializer": tc.name}
			if tc.key != "" {
				kv[tc.key] = tc.val
			}
			err := Check(cfg(kv), "serializer", tc.name)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func readAvro(t *testing.T, b []byte) []AvroEvent {
	t.Helper()
	dec, err := ocf.NewDecoder(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var out []AvroEvent
	for dec.HasNext() {
		var e AvroEvent
		if err := dec.Decode(&e); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	if err := dec.Error(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestAvroEventRoundTrip(t *testing.T) {
	for _, codec := range []string{"null", "deflate", "snappy", "zstandard"} {
		t.Run(codec, func(t *testing.T) {
			var events []*flume.Event
			for i := range 50 {
				events = append(events, flume.NewEvent([]byte(fmt.Sprintf("body-%d", i)),
					map[string]string{"i": fmt.Sprint(i), "timestamp": "1700000000000"}))
			}
			// A small sync interval forces several blocks within one batch.
			b := write(t, "avro_event", map[string]string{"compressionCodec": codec, "syncIntervalBytes": "64"}, events...)
			got := readAvro(t, b)
			if len(got) != len(events) {
				t.Fatalf("read %d events, want %d", len(got), len(events))
			}
			for i, e := range got {
				if string(e.Body) != string(events[i].Body) || e.Headers["i"] != fmt.Sprint(i) {
					t.Fatalf("event %d = %+v", i, e)
				}
			}
		})
	}
}

// TestAvroPrefixAfterFlushIsValid checks the guarantee sinks rely on to drop a
// failed batch: the bytes written up to any Flush are a complete file.
func TestAvroPrefixAfterFlushIsValid(t *testing.T) {
	var buf bytes.Buffer
	s, err := New("avro_event", cfg(nil), &buf)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AfterCreate(); err != nil {
		t.Fatal(err)
	}
	var cuts []int
	for batch := range 4 {
		for i := range 3 {
			if err := s.Write(flume.NewEvent([]byte(fmt.Sprint(batch, i)), nil)); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Flush(); err != nil {
			t.Fatal(err)
		}
		cuts = append(cuts, buf.Len())
	}
	for i, n := range cuts {
		if got := readAvro(t, buf.Bytes()[:n]); len(got) != 3*(i+1) {
			t.Fatalf("prefix after flush %d holds %d events, want %d", i, len(got), 3*(i+1))
		}
	}
	if s.SupportsReopen() || s.AfterReopen() == nil {
		t.Fatal("avro_event must refuse to reopen")
	}
}

func TestAppendHeaders(t *testing.T) {
	got := string(AppendHeaders([]byte("x"), map[string]string{"z": "", "a": "b=c"}))
	if got != "x{a=b=c, z=}" {
		t.Fatal(got)
	}
}
