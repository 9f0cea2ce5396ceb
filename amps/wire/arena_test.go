package wire

import (
	"strings"
	"testing"
)

// Headers parsed through an Arena equal those of ParseHeader, keep their
// values after the frame's buffer is overwritten, and cost no allocation
// per frame for values that change every frame.
func TestArenaParseMessage(t *testing.T) {
	frames := []string{
		`{"c":"p","t":"orders","sub_id":"s1","sids":"s1","ts":"20261127T095337.000001Z","bm":"1|1|"}payload`,
		`{"c":"p","t":"orders","sub_id":"s1","sids":"s1","ts":"20261127T095337.000002Z","bm":"1|2|"}`,
		`{"c":"p","t":"ord\u0065rs","x":"\"a\"","s":7}x`,
		`{"c":"ack","cid":"` + strings.Repeat("c", 300) + `","status":"success"}`,
		`{}`,
	}
	var a Arena
	var ha, hp Header
	var kept []Header
	for _, f := range frames {
		buf := []byte(f)
		pa, err := a.ParseMessage(buf, &ha)
		if err != nil {
			t.Fatal(err)
		}
		pp, err := ParseMessage([]byte(f), &hp)
		if err != nil {
			t.Fatal(err)
		}
		if ha != hp || string(pa) != string(pp) {
			t.Fatalf("%s: arena %+v %q, plain %+v %q", f, ha, pa, hp, pp)
		}
		kept = append(kept, ha)
		clear(buf) // the reader's buffer is reused
		if ha != hp {
			t.Fatalf("%s: header changed with its buffer: %+v", f, ha)
		}
	}
	for i, f := range frames {
		var want Header
		if _, err := ParseHeader([]byte(f), &want); err != nil {
			t.Fatal(err)
		}
		if kept[i] != want {
			t.Fatalf("frame %d kept %+v, want %+v", i, kept[i], want)
		}
	}
	frame := []byte(`{"c":"p","t":"orders","sub_id":"s1","ts":"20261127T095337.000001Z"}`)
	n := 0
	allocs := testing.AllocsPerRun(1000, func() {
		n++
		frame[len(frame)-4] = byte('0' + n%10) // the timestamp changes
		if _, err := a.ParseMessage(frame, &ha); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 0.05 {
		t.Fatalf("%v allocations per frame, want one per block", allocs)
	}
}

func FuzzArenaParseHeader(f *testing.F) {
	for _, s := range []string{`{"c":"p","t":"x","s":1}`, `{"filter":"\u00e9\"","bs":"3"}`, `{}`, `{"ts":"1","x":"2","bm":"3"}`} {
		f.Add([]byte(s), []byte(`{"c":"p","t":"y"}`))
	}
	f.Fuzz(func(t *testing.T, first, b []byte) {
		var a Arena
		var ha, hp Header
		_, _ = a.ParseMessage(first, &ha)
		_, _ = ParseHeader(first, &hp)
		na, erra := parseHeader(b, &ha, &a)
		np, errp := ParseHeader(b, &hp)
		if (erra == nil) != (errp == nil) || na != np {
			t.Fatalf("arena (%d, %v), plain (%d, %v)", na, erra, np, errp)
		}
		if erra == nil && ha != hp {
			t.Fatalf("arena %+v, plain %+v", ha, hp)
		}
	})
}

// ParseInto a fresh Header per frame gives what ParseHeader into one
// reused Header gives.
func TestArenaParseInto(t *testing.T) {
	frames := []string{
		`{"c":"p","t":"orders","sub_id":"s1","sids":"s1","ts":"1"}a`,
		`{"c":"p","t":"orders","sub_id":"s1","ts":"2","s":5}b`,
		`{"c":"ack","a":"processed","status":"success","cid":"9","t":"x\"y"}`,
		`{"c":"p","t":"orders","sub_id":"s1","sids":"s1","ts":"1","l":3}`,
		`{}`,
	}
	var a Arena
	var cache, reused Header
	for _, f := range frames {
		var fresh Header
		pa, err := a.ParseInto([]byte(f), &fresh, &cache)
		if err != nil {
			t.Fatal(err)
		}
		pp, err := ParseMessage([]byte(f), &reused)
		if err != nil {
			t.Fatal(err)
		}
		if fresh != reused || string(pa) != string(pp) {
			t.Fatalf("%s: ParseInto %+v %q, ParseMessage %+v %q", f, fresh, pa, reused, pp)
		}
	}
	frame := []byte(`{"c":"p","t":"orders","sub_id":"s1","sids":"s1"}`)
	var h Header
	if allocs := testing.AllocsPerRun(100, func() {
		h = Header{}
		if _, err := a.ParseInto(frame, &h, &cache); err != nil {
			t.Fatal(err)
		}
	}); allocs != 0 {
		t.Fatalf("%v allocations for a repeated header, want 0", allocs)
	}
}
