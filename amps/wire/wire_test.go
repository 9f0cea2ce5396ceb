package wire

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

func TestParseHeaderAliases(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Header
	}{
		{"short keys", `{"c":"publish","cid":"1","t":"Orders","a":"processed,completed"}`,
			Header{Command: "publish", CommandID: "1", Topic: "Orders", AckType: "processed,completed"}},
		{"long keys", `{"cmd":"sow","cmd_id":"7","topic":"T","ack_type":"stats","batch_size":10,"bookmark":"0|1|","seq":42,"expiration":30}`,
			Header{Command: "sow", CommandID: "7", Topic: "T", AckType: "stats", BatchSize: 10, Bookmark: "0|1|", Seq: 42, HasSeq: true, Expiration: "30"}},
		{"ack alias", `{"ack":"received"}`, Header{AckType: "received"}},
		{"sub_ids and opts", `{"sub_ids":"a,b","opts":"oof,replace","filter":"/x > 1"}`,
			Header{SubIDs: "a,b", Options: "oof,replace", Filter: "/x > 1"}},
		{"o and f", `{"o":"conflation=1s","f":"/a = 'b'","sids":"s1","bs":"3"}`,
			Header{Options: "conflation=1s", Filter: "/a = 'b'", SubIDs: "s1", BatchSize: 3}},
		{"auth_key alias", `{"auth_key":"secret","user_id":"bob","client_name":"cn","version":"5.3.4.0:go"}`,
			Header{Password: "secret", UserID: "bob", ClientName: "cn", Version: "5.3.4.0:go"}},
		{"pw", `{"pw":"p"}`, Header{Password: "p"}},
		{"e", `{"e":"12"}`, Header{Expiration: "12"}},
		{"quoted seq", `{"s":"18446744073709551615"}`, Header{Seq: 18446744073709551615, HasSeq: true}},
		{"sow record", `{"k":"123","ts":"20240101T000000.000000Z","l":5,"x":"corr"}`,
			Header{SowKey: "123", Timestamp: "20240101T000000.000000Z", Length: 5, HasLength: true, CorrelationID: "corr"}},
		{"zero length", `{"l":0}`, Header{HasLength: true}},
		{"stats", `{"c":"ack","a":"stats","matches":3,"topic_matches":4,"records_returned":3,"records_deleted":"2"}`,
			Header{Command: "ack", AckType: "stats", Matches: 3, TopicMatches: 4, RecordsReturned: 3, RecordsDeleted: 2, HasStats: true}},
		{"unknown keys ignored", `{"zz":"q","c":"p","nested_ok":123,"b":true,"n":null}`, Header{Command: "p"}},
		{"whitespace", " \n{ \"c\" : \"p\" ,\t\"t\" :\"x\" }", Header{Command: "p", Topic: "x"}},
		{"escapes", `{"filter":"/a = \"q\\\\\" AND /b = 'x\ny'\t\u00e9\ud83d\ude00\/"}`,
			Header{Filter: "/a = \"q\\\\\" AND /b = 'x\ny'\t\u00e9\U0001F600/"}},
		{"escaped key", `{"\u0063":"sow"}`, Header{Command: "sow"}},
		{"null value", `{"t":null,"c":"p"}`, Header{Command: "p"}},
		{"empty", `{}`, Header{}},
		{"orderby top_n sow_keys", `{"orderby":"/qty DESC","top_n":5,"sow_keys":"1,2","mt":"json","gseq":"9","lp":"10","heartbeat":"5"}`,
			Header{OrderBy: "/qty DESC", TopN: 5, SowKeys: "1,2", MessageType: "json", GroupSeq: "9", LeasePeriod: "10", Heartbeat: "5"}},
		{"query_id status reason", `{"query_id":"q","status":"failure","reason":"bad filter","sub_id":"s"}`,
			Header{QueryID: "q", Status: "failure", Reason: "bad filter", SubID: "s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h Header
			h.Topic = "stale" // must be reset
			n, err := ParseHeader([]byte(tt.in+"PAYLOAD"), &h)
			if err != nil {
				t.Fatalf("ParseHeader: %v", err)
			}
			if n != len(tt.in) {
				t.Errorf("consumed %d, want %d", n, len(tt.in))
			}
			if !reflect.DeepEqual(h, tt.want) {
				t.Errorf("got  %+v\nwant %+v", h, tt.want)
			}
		})
	}
}

func TestParseHeaderErrors(t *testing.T) {
	for _, in := range []string{
		``, `[`, `{`, `{"c"`, `{"c":`, `{"c":"p"`, `{"c":"p",`, `{"c":"p" "t":"x"}`,
		`{c:"p"}`, `{"c":{}}`, `{"c":[1]}`, `{"s":-1}`, `{"s":"abc"}`, `{"bs":"x"}`,
		`{"bs":1.5}`, `{"c":tru}`, `{"c":"p}`, `{"c":01x}`, `{"l":"-"}`,
		`{"s":99999999999999999999}`,
	} {
		var h Header
		_, err := ParseHeader([]byte(in), &h)
		var fe *FrameError
		if !errors.As(err, &fe) {
			t.Errorf("ParseHeader(%q) = %v, want *FrameError", in, err)
		}
	}
}

func fullHeader() Header {
	return Header{
		Command: "sow", CommandID: "c1", Topic: "Or\"ders", SubID: "s", SubIDs: "s,t", QueryID: "q",
		AckType: "processed", Status: "success", Reason: "r\\x", Bookmark: "1|2|", Timestamp: "ts",
		SowKey: "k", SowKeys: "1,2", CorrelationID: "x\n", Filter: "/a = 1", Options: "oof",
		OrderBy: "/a", ClientName: "cn", UserID: "u", Password: "p", Version: "5.3.4.0", MessageType: "json",
		LeasePeriod: "10", GroupSeq: "3", Expiration: "5",
		Seq: 9, HasSeq: true, BatchSize: 10, TopN: 4, Length: 0, HasLength: true,
		Matches: 1, TopicMatches: 2, RecordsInserted: 3, RecordsUpdated: 4, RecordsDeleted: 5, RecordsReturned: 6, HasStats: true,
	}
}

func TestRoundTrip(t *testing.T) {
	for _, h := range []Header{fullHeader(), {Command: "p", Topic: "t"}, {Command: "ack", AckType: "persisted", Seq: 0, HasSeq: true}, {HasSeq: true, Seq: 1}} {
		b := AppendHeader(nil, &h)
		var got Header
		n, err := ParseHeader(b, &got)
		if err != nil || n != len(b) {
			t.Fatalf("parse %s: n=%d err=%v", b, n, err)
		}
		if !reflect.DeepEqual(got, h) {
			t.Errorf("round trip of %s\ngot  %+v\nwant %+v", b, got, h)
		}
	}
}

func TestAppendHeaderCanonical(t *testing.T) {
	h := Header{Command: "ack", AckType: "persisted", Seq: 12, HasSeq: true}
	if got, want := string(AppendHeader(nil, &h)), `{"c":"ack","s":12,"a":"persisted"}`; got != want {
		t.Errorf("got %s want %s", got, want)
	}
	h = Header{Command: "p", Topic: "t", SubID: "1", SubIDs: "1", SowKey: "5", Timestamp: "x", BatchSize: 2}
	if got, want := string(AppendHeader(nil, &h)), `{"c":"p","t":"t","sub_id":"1","sids":"1","ts":"x","k":"5","bs":2}`; got != want {
		t.Errorf("got %s want %s", got, want)
	}
	b := AppendHeader(nil, &Header{Reason: "a\x01\"\\\t"})
	if got, want := string(b), `{"reason":"a\u0001\"\\\t"}`; got != want {
		t.Errorf("got %s want %s", got, want)
	}
	// Only keys the C-family parser knows.
	full := fullHeader()
	var keys []string
	s := string(AppendHeader(nil, &full))
	for _, part := range strings.Split(s[1:len(s)-1], `,"`) {
		k := strings.Trim(part[:strings.Index(part, `":`)], `"`)
		keys = append(keys, k)
	}
	allowed := map[string]bool{}
	for _, k := range strings.Fields("c cid t sub_id sids query_id a status reason bm ts k x l s bs lp mt version client_name user_id pw opts gseq top_n matches topic_matches records_inserted records_updated records_deleted records_returned filter sow_keys e orderby") {
		allowed[k] = true
	}
	for _, k := range keys {
		if !allowed[k] {
			t.Errorf("emitted non-canonical key %q", k)
		}
	}
	if keys[len(keys)-1] == "s" {
		t.Error("s is the last key")
	}
}

func TestFrameAndReader(t *testing.T) {
	var stream []byte
	msgs := []struct {
		h Header
		p string
	}{
		{Header{Command: "p", Topic: "a"}, `{"x":1}`},
		{Header{Command: "ack", CommandID: "2", Status: "success"}, ``},
		{Header{Command: "p", Topic: "b", Seq: 3, HasSeq: true}, strings.Repeat("z", 3<<20)},
	}
	for _, m := range msgs {
		stream = AppendFrame(stream, &m.h, []byte(m.p))
	}
	for _, src := range []io.Reader{bytes.NewReader(stream), iotest.OneByteReader(bytes.NewReader(stream)), iotest.HalfReader(bytes.NewReader(stream))} {
		r := NewReader(src, 0)
		for i, m := range msgs {
			f, err := r.Next()
			if err != nil {
				t.Fatalf("frame %d: %v", i, err)
			}
			var h Header
			p, err := ParseMessage(f, &h)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(h, m.h) || string(p) != m.p {
				t.Fatalf("frame %d: got %+v %d bytes", i, h, len(p))
			}
		}
		if _, err := r.Next(); err != io.EOF {
			t.Fatalf("end: %v, want io.EOF", err)
		}
	}
}

func TestReaderErrors(t *testing.T) {
	frame := AppendFrame(nil, &Header{Command: "p"}, []byte("payload"))
	tests := []struct {
		name string
		in   []byte
		max  int
	}{
		{"oversize", frame, 5},
		{"truncated body", frame[:len(frame)-2], 0},
		{"truncated prefix", frame[:2], 0},
		{"huge length", []byte{0xff, 0xff, 0xff, 0xff, '{'}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewReader(bytes.NewReader(tt.in), tt.max).Next()
			var fe *FrameError
			if !errors.As(err, &fe) || !strings.HasPrefix(err.Error(), "amps frame: ") {
				t.Fatalf("got %v, want *FrameError", err)
			}
		})
	}
}

func TestSOWRecords(t *testing.T) {
	type rec struct {
		k, d string
	}
	recs := []rec{{"1", `{"a":1}`}, {"2", ``}, {"3", `{"b":"}{"}`}}
	body := AppendHeader(nil, &Header{Command: "sow", QueryID: "q", BatchSize: len(recs)})
	for _, r := range recs {
		h := Header{SowKey: r.k, Timestamp: "ts"}
		body = AppendSOWRecord(body, &h, []byte(r.d))
		if h.HasLength {
			t.Fatal("AppendSOWRecord modified its header")
		}
	}
	var h Header
	payload, err := ParseMessage(body, &h)
	if err != nil || h.BatchSize != 3 {
		t.Fatalf("sow header: %+v %v", h, err)
	}
	var got []rec
	if err := ForEachRecord(payload, func(h *Header, data []byte) error {
		if h.Timestamp != "ts" {
			t.Errorf("record ts %q", h.Timestamp)
		}
		got = append(got, rec{h.SowKey, string(data)})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, recs) {
		t.Fatalf("got %v want %v", got, recs)
	}
	stop := errors.New("stop")
	if err := ForEachRecord(payload, func(*Header, []byte) error { return stop }); err != stop {
		t.Fatalf("callback error not returned: %v", err)
	}
	for _, bad := range []string{`{"k":"1"}abc`, `{"l":10}abc`, `{"l":-1}`, `{"l":1`} {
		if err := ForEachRecord([]byte(bad), func(*Header, []byte) error { return nil }); err == nil {
			t.Errorf("ForEachRecord(%q) succeeded", bad)
		}
	}
}

func TestParseHeaderAllocs(t *testing.T) {
	b := []byte(`{"c":"p","t":"Orders","sids":"1","sub_id":"1","s":17,"bs":10,"unknown":"zz","l":4}`)
	var h Header
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := ParseHeader(b, &h); err != nil {
			t.Fatal(err)
		}
	})
	// One allocation per kept string field (c, t, sids, sub_id); none per key or number.
	if allocs > 4 {
		t.Errorf("ParseHeader allocates %v times, want <= 4", allocs)
	}
	dst := make([]byte, 0, 256)
	allocs = testing.AllocsPerRun(100, func() { dst = AppendHeader(dst[:0], &h) })
	if allocs != 0 {
		t.Errorf("AppendHeader allocates %v times", allocs)
	}
}

func BenchmarkParseHeader(b *testing.B) {
	frame := AppendFrame(nil, &Header{Command: "p", Topic: "Orders", SubID: "sub-1", SubIDs: "sub-1", SowKey: "1234567", Timestamp: "20240101T000000.000000Z", Seq: 99, HasSeq: true},
		[]byte(`{"order_key":1,"symbol":"MSFT","price":62.15,"qty":100}`))[4:]
	var h Header
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseMessage(frame, &h); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendFrame(b *testing.B) {
	h := Header{Command: "p", Topic: "Orders", SubID: "sub-1", SubIDs: "sub-1", SowKey: "1234567", Timestamp: "20240101T000000.000000Z", Seq: 99, HasSeq: true}
	payload := []byte(`{"order_key":1,"symbol":"MSFT","price":62.15,"qty":100}`)
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendFrame(buf[:0], &h, payload)
	}
}
