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
