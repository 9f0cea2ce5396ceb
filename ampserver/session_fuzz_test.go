package ampserver

import (
	"context"
	"io"
	"net"
	"testing"

	"ampsflume/amps/wire"
)

// FuzzSession feeds arbitrary bytes to a session: whatever arrives, the
// server must neither panic nor hang, and must close only that connection.
func FuzzSession(f *testing.F) {
	var seed []byte
	seed = wire.AppendFrame(seed, &wire.Header{Command: "logon", CommandID: "1", ClientName: "f", AckType: "processed"}, nil)
	seed = wire.AppendFrame(seed, &wire.Header{Command: "sow_and_subscribe", CommandID: "2", Topic: "Orders", Filter: "/qty > 1", AckType: "processed,completed,stats"}, nil)
	seed = wire.AppendFrame(seed, &wire.Header{Command: "p", Topic: "Orders"}, []byte(`{"order_key":1,"qty":5}`))
	seed = wire.AppendFrame(seed, &wire.Header{Command: "sow_delete", CommandID: "3", Topic: "Orders", Filter: "1=1", AckType: "stats"}, nil)
	seed = wire.AppendFrame(seed, &wire.Header{Command: "sow", CommandID: "4", Topic: "Ord.*", OrderBy: "/qty DESC", TopN: 1}, nil)
	f.Add(seed)
	f.Add(wire.AppendFrame(nil, &wire.Header{Command: "heartbeat", Options: "start,1"}, nil))
	f.Add([]byte{0, 0, 0, 2, '{', '}'})
	f.Fuzz(func(t *testing.T, in []byte) {
		cfg := ordersConfig("")
		cfg.Transports = nil
		s, err := New(cfg, WithLogger(quietLogger()))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Shutdown(context.Background())
		cli, srv := net.Pipe()
		s.serveConn(newStreamConn(srv, 1<<20), "fuzz")
		done := make(chan struct{})
		go func() { io.Copy(io.Discard, cli); close(done) }()
		cli.Write(in)
		cli.Close()
		<-done
	})
}
