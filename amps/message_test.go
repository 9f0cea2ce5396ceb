package amps

import (
	"bytes"
	"testing"

	"ampsflume/amps/wire"
)

// TestMsgAllocCopiesAreIndependent checks that messages carved from shared
// blocks own their payloads: later messages, appends by the owner and
// changes to the read buffer never show through.
func TestMsgAllocCopiesAreIndependent(t *testing.T) {
	var a msgAlloc
	read := make([]byte, 0, 4096) // stands for the reader's reused buffer
	var msgs []*Message
	var want [][]byte
	sizes := []int{0, 1, 100, payloadShared, payloadShared + 1, 5000, 100, 3}
	for i := 0; i < 3*msgBlock; i++ {
		n := sizes[i%len(sizes)]
		read = read[:0]
		for j := 0; j < n; j++ {
			read = append(read, byte(i+j))
		}
		m := a.message(&wire.Header{Command: "p", SubID: "s"}, read)
		if m.Command != MsgPublish || m.SubID != "s" {
			t.Fatalf("message %d: header %+v", i, m.Header)
		}
		msgs = append(msgs, m)
		want = append(want, append([]byte(nil), read...))
		for j := range read {
			read[j] = 0xff // the reader reuses its buffer
		}
	}
	// The owner appends to its payload: neighbours must not change.
	msgs[2].Data = append(msgs[2].Data, "tail"...)
	want[2] = append(want[2], "tail"...)
	seen := map[*Message]bool{}
	for i, m := range msgs {
		if seen[m] {
			t.Fatalf("message %d handed out twice", i)
		}
		seen[m] = true
		if !bytes.Equal(m.Data, want[i]) {
			t.Fatalf("message %d: payload changed: %x, want %x", i, m.Data, want[i])
		}
		if len(want[i]) == 0 && m.Data != nil {
			t.Fatalf("message %d: empty payload is %v, want nil", i, m.Data)
		}
	}
}
