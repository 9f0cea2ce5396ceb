package amps

import (
	"bytes"
	"strconv"
	"testing"

	"ampsflume/amps/wire"
)

// sendPublish writes the frame send writes for the same header.
func TestSendPublishMatchesSend(t *testing.T) {
	tests := []struct {
		cmd, topic string
		cid        uint64
		data       string
	}{
		{"p", "orders", 1, `{"a":1}`},
		{CmdDeltaPublish, `we"ird\topic`, 18446744073709551615, ""},
		{"p", "é/x", 0, "x"},
	}
	for _, tc := range tests {
		fast := newConn(&Client{}, nil, nil)
		if err := fast.sendPublish(tc.cmd, tc.cid, tc.topic, []byte(tc.data)); err != nil {
			t.Fatal(err)
		}
		slow := newConn(&Client{}, nil, nil)
		h := wire.Header{Command: tc.cmd, CommandID: strconv.FormatUint(tc.cid, 10), Topic: tc.topic}
		if err := slow.send(&h, []byte(tc.data)); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(fast.wbuf, slow.wbuf) {
			t.Errorf("%+v:\nsendPublish %q\nsend        %q", tc, fast.wbuf, slow.wbuf)
		}
	}
}

// lookup remembers the route of the last sids; a route registered or ended
// since must not be served from that memory.
func TestLookupAfterRouteChanges(t *testing.T) {
	cn := newConn(&Client{}, nil, nil)
	a := newRoute(CmdSubscribe, "1")
	a.subID, a.persistent = "s", true
	if err := cn.register(a, false); err != nil {
		t.Fatal(err)
	}
	h := wire.Header{Command: "p", SubID: "s", SubIDs: "s"}
	for range 2 {
		if got := cn.lookup(&h); len(got) != 1 || got[0] != a {
			t.Fatalf("lookup = %v, want route a", got)
		}
	}
	cn.end(a, nil, false)
	if got := cn.lookup(&h); len(got) != 0 {
		t.Fatalf("lookup after end = %v, want none", got)
	}
	b := newRoute(CmdSubscribe, "2")
	b.subID, b.persistent = "s", true
	if err := cn.register(b, false); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if got := cn.lookup(&h); len(got) != 1 || got[0] != b {
			t.Fatalf("lookup = %v, want route b", got)
		}
	}
	c := newRoute(CmdSubscribe, "3")
	c.subID, c.persistent = "s", true
	if err := cn.register(c, true); err != nil { // replace
		t.Fatal(err)
	}
	if got := cn.lookup(&h); len(got) != 1 || got[0] != c {
		t.Fatalf("lookup after replace = %v, want route c", got)
	}
	multi := wire.Header{Command: "p", SubIDs: "x,s"}
	if got := cn.lookup(&multi); len(got) != 1 || got[0] != c {
		t.Fatalf("lookup of x,s = %v, want route c", got)
	}
}
