package repl

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	rec := Record{Seq: 42, Timestamp: -5, Command: 2, Topic: "Orders", Client: "pub", ClientSeq: 1 << 60, SowKey: "k1", Data: []byte(`{"a":1}`)}
	var b []byte
	b = AppendHello(b, &Hello{Version: Version, Instance: "A", User: "u", Password: "p"})
	b = AppendWelcome(b, &Welcome{Instance: "B", Resume: 7})
	b = AppendRecord(b, &rec)
	b = AppendAck(b, 99)
	b = AppendRefused(b, "auth failure")
	b = AppendHeartbeat(b, 1500*time.Millisecond)
	r := NewReader(bytes.NewReader(b))
	next := func(want Type) []byte {
		t.Helper()
		typ, body, err := r.Next()
		if err != nil || typ != want {
			t.Fatalf("Next = %c, %v; want %c", typ, err, want)
		}
		return body
	}
	if h, err := DecodeHello(next(THello)); err != nil || h != (Hello{Version: Version, Instance: "A", User: "u", Password: "p"}) {
		t.Fatalf("hello %+v %v", h, err)
	}
	if w, err := DecodeWelcome(next(TWelcome)); err != nil || w != (Welcome{Instance: "B", Resume: 7}) {
		t.Fatalf("welcome %+v %v", w, err)
	}
	var got Record
	if err := DecodeRecord(next(TRecord), &got); err != nil || !reflect.DeepEqual(got, rec) {
		t.Fatalf("record %+v %v", got, err)
	}
	if a, err := DecodeAck(next(TAck)); err != nil || a != 99 {
		t.Fatalf("ack %d %v", a, err)
	}
	if s, err := DecodeRefused(next(TRefused)); err != nil || s != "auth failure" {
		t.Fatalf("refused %q %v", s, err)
	}
	if d, err := DecodeHeartbeat(next(THeartbeat)); err != nil || d != 1500*time.Millisecond {
		t.Fatalf("heartbeat %v %v", d, err)
	}
	if _, _, err := r.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("end: %v", err)
	}
}

func TestMalformed(t *testing.T) {
	tests := []struct {
		name  string
		input []byte
	}{
		{"zero length", []byte{0, 0, 0, 0}},
		{"huge length", []byte{0xff, 0xff, 0xff, 0x7f, 'R'}},
		{"truncated", []byte{10, 0, 0, 0, 'R', 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := NewReader(bytes.NewReader(tc.input)).Next(); err == nil {
				t.Fatal("no error")
			}
		})
	}
	bodies := []struct {
		name string
		dec  func([]byte) error
		body []byte
	}{
		{"hello short string", func(b []byte) error { _, err := DecodeHello(b); return err }, []byte{1, 5, 'a'}},
		{"hello trailing", func(b []byte) error { _, err := DecodeHello(b); return err }, []byte{1, 0, 0, 0, 9}},
		{"ack empty", func(b []byte) error { _, err := DecodeAck(b); return err }, nil},
		{"record zero seq", func(b []byte) error { var r Record; return DecodeRecord(b, &r) }, []byte{0, 0, 1, 0, 0, 0, 0}},
		{"heartbeat empty", func(b []byte) error { _, err := DecodeHeartbeat(b); return err }, nil},
		{"heartbeat zero", func(b []byte) error { _, err := DecodeHeartbeat(b); return err }, []byte{0}},
		{"heartbeat trailing", func(b []byte) error { _, err := DecodeHeartbeat(b); return err }, []byte{1, 1}},
		{"heartbeat beyond a day", func(b []byte) error { _, err := DecodeHeartbeat(b); return err }, AppendHeartbeat(nil, MaxHeartbeat+1)[5:]},
		{"record cut", func(b []byte) error { var r Record; return DecodeRecord(b, &r) }, []byte{1, 0}},
	}
	for _, tc := range bodies {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.dec(tc.body); !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(AppendRecord(nil, &Record{Seq: 1, Topic: "t", Data: []byte("x")}))
	f.Add(AppendHello(nil, &Hello{Version: 1, Instance: "A"}))
	f.Add(AppendAck(nil, 3))
	f.Add(AppendHeartbeat(nil, time.Second))
	f.Add([]byte{3, 0, 0, 0, 'W', 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data))
		for {
			typ, body, err := r.Next()
			if err != nil {
				return
			}
			switch typ {
			case THello:
				if h, err := DecodeHello(body); err == nil {
					if got, err := DecodeHello(AppendHello(nil, &h)[5:]); err != nil || got != h {
						t.Fatalf("hello does not round-trip: %+v %v", got, err)
					}
				}
			case TWelcome:
				_, _ = DecodeWelcome(body)
			case TRefused:
				_, _ = DecodeRefused(body)
			case TAck:
				_, _ = DecodeAck(body)
			case THeartbeat:
				if d, err := DecodeHeartbeat(body); err == nil {
					if got, err := DecodeHeartbeat(AppendHeartbeat(nil, d)[5:]); err != nil || got != d {
						t.Fatalf("heartbeat does not round-trip: %v %v", got, err)
					}
				}
			case TRecord:
				var rec Record
				if err := DecodeRecord(body, &rec); err == nil {
					var again Record
					if err := DecodeRecord(AppendRecord(nil, &rec)[5:], &again); err != nil || again.Seq != rec.Seq || !bytes.Equal(again.Data, rec.Data) {
						t.Fatalf("record does not round-trip: %+v %v", again, err)
					}
				}
			}
		}
	})
}
