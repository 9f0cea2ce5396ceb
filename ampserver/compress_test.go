package ampserver

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/klauspost/compress/flate"

	"ampsflume/amps/wire"
)

// deflated compresses b as a client with compression=zlib sends it: raw
// deflate, flushed.
func deflated(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	zw, err := flate.NewWriter(&buf, flate.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(b)
	zw.Flush()
	return buf.Bytes()
}

// FuzzCompressedSession feeds arbitrary bytes to a session of a compressed
// transport: whether they inflate or not, the server must neither panic
// nor hang, and must close only that connection.
func FuzzCompressedSession(f *testing.F) {
	var frames []byte
	frames = wire.AppendFrame(frames, &wire.Header{Command: "logon", CommandID: "1", ClientName: "f", AckType: "processed"}, nil)
	frames = wire.AppendFrame(frames, &wire.Header{Command: "subscribe", CommandID: "2", Topic: "Orders", AckType: "processed"}, nil)
	frames = wire.AppendFrame(frames, &wire.Header{Command: "p", Topic: "Orders"}, []byte(`{"order_key":1,"qty":5}`))
	good := deflated(f, frames)
	f.Add(good)
	f.Add(good[:len(good)/2])                    // torn mid-block
	f.Add(append(bytes.Clone(good), 0xff, 0x13)) // garbage after a flush
	f.Add(frames)                                // a client that does not compress
	f.Add(deflated(f, []byte{0xff, 0xff, 0xff, 0xf0}))
	f.Fuzz(func(t *testing.T, in []byte) {
		cfg := ordersConfig("")
		cfg.Transports = nil
		s, err := New(cfg, WithLogger(quietLogger()))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Shutdown(context.Background())
		cli, srv := net.Pipe()
		s.serveConn(newCompressedStreamConn(srv, 1<<20), "fuzz")
		done := make(chan struct{})
		go func() { io.Copy(io.Discard, cli); close(done) }()
		cli.Write(in)
		cli.Close()
		<-done
	})
}

// A malformed compressed stream ends that connection with a malformed
// frame error; the inflater's own errors never escape as anything else.
func TestInflateReaderErrors(t *testing.T) {
	frame := wire.AppendFrame(nil, &wire.Header{Command: "logon", CommandID: "1"}, nil)
	tests := []struct {
		name    string
		in      []byte
		wantErr func(error) bool
	}{
		{"plain frame", frame, func(err error) bool { _, ok := err.(*wire.FrameError); return ok }},
		{"clean end between blocks", deflated(t, frame), func(err error) bool { return err == io.EOF }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ir := newInflateReader(bytes.NewReader(tt.in))
			_, err := io.ReadAll(ir)
			if err == nil {
				err = io.EOF // ReadAll turns the io.EOF it stops at into nil
			}
			if !tt.wantErr(err) {
				t.Fatalf("err = %v (%T)", err, err)
			}
		})
	}
}

// BenchmarkCompressedFrames is the cost per frame of a compressed
// connection: the server deflating what it writes (batches of 64 typical
// deliveries, one flush each) and a long-lived inflater reading it back,
// with the bytes on the wire per frame.
func BenchmarkCompressedFrames(b *testing.B) {
	// 4096 distinct frames (800 KB), far more than deflate's 32 KB window,
	// so no batch finds an earlier copy of itself.
	var all [][]byte
	for i := range 4096 {
		all = append(all, wire.AppendFrame(nil, &wire.Header{Command: "p", Topic: "Orders", SubIDs: "1",
			Bookmark: fmt.Sprintf("12290412031115262887|%d|", 1484244707000000000+i), Timestamp: "20260101T000000.123456Z"},
			fmt.Appendf(nil, `{"order_key":%d,"symbol":"IBM","price":%d.95,"qty":480,"side":"buy","trader":"alice"}`, i, 100+i)))
	}
	const batch = 64
	raw := 0
	for _, f := range all {
		raw += len(f)
	}
	var wireBuf bytes.Buffer
	d := newDeflater(&wireBuf)
	ir := newInflateReader(&wireBuf)
	out := make([]byte, 0, raw)
	var wireBytes, rawBytes int64
	var frames [][]byte
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += batch {
		frames = all[i%len(all) : i%len(all)+batch]
		n := 0
		for _, f := range frames {
			n += len(f)
		}
		rawBytes += int64(n)
		if err := d.writeFrames(frames); err != nil {
			b.Fatal(err)
		}
		wireBytes += int64(wireBuf.Len())
		out = out[:n]
		if _, err := io.ReadFull(ir, out); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if last := frames[batch-1]; !bytes.Equal(out[len(out)-len(last):], last) {
		b.Fatal("inflated frames differ")
	}
	b.ReportMetric(float64(wireBytes)/float64(rawBytes), "wire/raw")
	b.ReportMetric(float64(rawBytes)/float64((b.N+batch-1)/batch*batch), "rawB/frame")
}
