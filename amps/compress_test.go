package amps

import (
	"bytes"
	stdflate "compress/flate"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"testing"

	"ampsflume/amps/wire"
	"ampsflume/ampserver"
)

// compressedServer runs a server with a plain transport and one that
// takes compression=zlib, and returns their URIs.
func compressedServer(t *testing.T) (plain, zlib string) {
	cfg := ampserver.DefaultConfig()
	cfg.SOW = []ampserver.SOWTopicConfig{{Name: "Orders", MessageType: "json", Keys: []string{"/order_key"}}}
	cfg.Transports = append(cfg.Transports, ampserver.TransportConfig{
		Name: "json-zlib", Type: "tcp", InetAddr: "127.0.0.1:0", Protocol: "amps", MessageType: "json",
		Compression: ampserver.CompressionZlib,
	})
	s := startServer(t, cfg)
	plain = "tcp://" + s.TCPAddr().String() + "/amps/json"
	zlib = "tcp://" + s.Addr("json-zlib").String() + "/amps/json?compression=zlib"
	return plain, zlib
}

// bigOrder is a record of about size bytes whose blob does not compress
// much (base64 of random bytes), so frames span many deflate blocks.
func bigOrder(key, size int, rng *rand.Rand) []byte {
	raw := make([]byte, size*3/4)
	for i := range raw {
		raw[i] = byte(rng.Uint32())
	}
	return []byte(fmt.Sprintf(`{"order_key":%d,"blob":%q}`, key, base64.StdEncoding.EncodeToString(raw)))
}

func TestCompressionEndToEnd(t *testing.T) {
	plainURI, zlibURI := compressedServer(t)
	ctx := testCtx(t)
	pub := logon(t, zlibURI, "zpub")
	zsub := logon(t, zlibURI, "zsub")
	psub := logon(t, plainURI, "psub")

	// One compressed and one plain subscriber see the same stream.
	var streams []*MessageStream
	for _, c := range []*Client{zsub, psub} {
		s, err := c.Subscribe(ctx, "Orders", "")
		if err != nil {
			t.Fatal(err)
		}
		streams = append(streams, s)
	}

	const small, large = 3000, 12
	rng := rand.New(rand.NewPCG(1, 2))
	want := make([][]byte, 0, small+large)
	for i := range small {
		want = append(want, order(i, []string{"IBM", "MSFT", "FIZZ"}[i%3], float64(i), i))
	}
	for i := range large {
		want = append(want, bigOrder(small+i, 200<<10+i*7919, rng))
	}
	done := make(chan error, 1)
	go func() {
		for _, d := range want {
			if err := pub.Publish("Orders", d); err != nil {
				done <- err
				return
			}
		}
		done <- pub.Flush(ctx)
	}()
	for si, s := range streams {
		for i, d := range want {
			m, err := s.Next(ctx)
			if err != nil {
				t.Fatalf("subscriber %d, message %d: %v", si, i, err)
			}
			if !bytes.Equal(m.Data, d) {
				t.Fatalf("subscriber %d, message %d: got %d bytes %.60q, want %d bytes %.60q", si, i, len(m.Data), m.Data, len(d), d)
			}
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// The SOW holds every record; a compressed query returns them all.
	s, err := zsub.Execute(ctx, Command{Name: CmdSow, Topic: "Orders", BatchSize: 50})
	if err != nil {
		t.Fatal(err)
	}
	got := collect(t, s)
	if len(got) != len(want) {
		t.Fatalf("sow returned %d records, want %d", len(got), len(want))
	}
	seen := map[string]bool{}
	for _, d := range want {
		seen[string(d)] = true
	}
	for _, d := range got {
		if !seen[d] {
			t.Fatalf("sow returned a record that was not published: %.80q", d)
		}
	}
}

func TestCompressionMismatch(t *testing.T) {
	plainURI, zlibURI := compressedServer(t)
	tests := []struct {
		name, uri string
		want      error
	}{
		{"compressed client, plain transport", strings.Replace(plainURI, "/amps/json", "/amps/json?compression=zlib", 1), ErrCompression},
		{"plain client, compressed transport", strings.TrimSuffix(zlibURI, "?compression=zlib"), ErrDisconnected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewClient("mismatch")
			t.Cleanup(func() { _ = c.Close() })
			ctx := testCtx(t)
			if err := c.Connect(ctx, tt.uri); err != nil {
				t.Fatal(err)
			}
			_, err := c.Logon(ctx)
			if err == nil {
				t.Fatal("logon succeeded")
			}
			if errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, tt.want) {
				t.Fatalf("logon: %v, want an error wrapping %v", err, tt.want)
			}
		})
	}
}

// The bytes on the wire are raw deflate (no zlib header) that an
// independent inflater reads back, and each write is readable as soon as
// it is written (flushed), without waiting for more.
func TestDeflateConnWireFormat(t *testing.T) {
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	dc, err := newDeflateConn(a)
	if err != nil {
		t.Fatal(err)
	}
	frames := [][]byte{
		wire.AppendFrame(nil, &wire.Header{Command: "logon", CommandID: "1", ClientName: "x"}, nil),
		wire.AppendFrame(nil, &wire.Header{Command: "p", Topic: "T"}, bytes.Repeat([]byte("abc"), 5000)),
	}
	go func() {
		for _, f := range frames {
			if _, err := dc.Write(f); err != nil {
				return
			}
		}
	}()
	zr := stdflate.NewReader(b)
	for i, f := range frames {
		got := make([]byte, len(f))
		if _, err := io.ReadFull(zr, got); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if !bytes.Equal(got, f) {
			t.Fatalf("frame %d differs", i)
		}
	}

	// The other way: what a standard raw-deflate writer sends, flushed,
	// reads back through the connection.
	zw, _ := stdflate.NewWriter(b, stdflate.DefaultCompression)
	go func() {
		_, _ = zw.Write(frames[1])
		_ = zw.Flush()
	}()
	got := make([]byte, len(frames[1]))
	if _, err := io.ReadFull(dc, got); err != nil || !bytes.Equal(got, frames[1]) {
		t.Fatalf("inflate: %v", err)
	}
}
