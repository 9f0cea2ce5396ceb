package wire

import "testing"

// TestParseHeaderReusesRepeatedValues checks that parsing into a Header that
// already holds a frame keeps only what the new frame says, and that values
// repeated from the previous frame cost no allocation.
func TestParseHeaderReusesRepeatedValues(t *testing.T) {
	first := []byte(`{"c":"p","t":"orders","sub_id":"s1","sids":"s1","bm":"1|1|","x":"a"}`)
	tests := []struct {
		name string
		in   string
		want Header
	}{
		{name: "same fields, one changed", in: `{"c":"p","t":"orders","sub_id":"s1","sids":"s1","bm":"1|2|","x":"a"}`,
			want: Header{Command: "p", Topic: "orders", SubID: "s1", SubIDs: "s1", Bookmark: "1|2|", CorrelationID: "a"}},
		{name: "fields dropped", in: `{"c":"p","t":"orders"}`,
			want: Header{Command: "p", Topic: "orders"}},
		{name: "escaped value equal after unescaping", in: `{"c":"p","t":"ord\u0065rs","x":"\"a\""}`,
			want: Header{Command: "p", Topic: "orders", CorrelationID: `"a"`}},
		{name: "different values", in: `{"c":"sow","t":"other","sub_id":"s2"}`,
			want: Header{Command: "sow", Topic: "other", SubID: "s2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var h Header
			if _, err := ParseHeader(first, &h); err != nil {
				t.Fatal(err)
			}
			if _, err := ParseHeader([]byte(tc.in), &h); err != nil {
				t.Fatal(err)
			}
			if h != tc.want {
				t.Fatalf("got %+v\nwant %+v", h, tc.want)
			}
		})
	}
	var h Header
	if _, err := ParseHeader(first, &h); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := ParseHeader(first, &h); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations to parse a repeated header, want 0", allocs)
	}
}
