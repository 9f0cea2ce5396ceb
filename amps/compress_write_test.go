package amps

import (
	"errors"
	"net"
	"testing"
)

// TestCompressedWriteToAHungUpServer: a server that does not expect
// compression may hang up while the logon is still being written; the
// write error then says what the read side would have said.
func TestCompressedWriteToAHungUpServer(t *testing.T) {
	client, server := net.Pipe()
	server.Close()
	dc, err := newDeflateConn(client)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dc.Close() })
	_, err = dc.Write([]byte(`{"c":"logon"}`))
	if !errors.Is(err, ErrCompression) {
		t.Fatalf("write after the server hung up: %v, want ErrCompression", err)
	}
}
