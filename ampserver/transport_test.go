package ampserver

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"ampsflume/amps/wire"

	"github.com/coder/websocket"
)

func TestWebSocketRoundTrip(t *testing.T) {
	cfg := ordersConfig("")
	cfg.Transports = append(cfg.Transports, TransportConfig{Name: "ws", Type: "tcp", InetAddr: "127.0.0.1:0", Protocol: "websocket"})
	s := startServer(t, cfg)
	pub := dial(t, s.TCPAddr())
	pub.logon("pub")
	publishOrders(t, pub, 3)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws://"+s.Addr("ws").String()+"/amps/json", nil)
	noErr(t, err)
	defer ws.CloseNow()
	noErr(t, ws.Write(ctx, websocket.MessageText, []byte("binary")))
	send := func(h wire.Header, payload string) {
		msg := binary.LittleEndian.AppendUint32(nil, 1)
		msg = wire.AppendHeader(msg, &h)
		msg = append(msg, payload...)
		noErr(t, ws.Write(ctx, websocket.MessageBinary, msg))
	}
	read := func() (wire.Header, []byte) {
		_, b, err := ws.Read(ctx)
		noErr(t, err)
		var h wire.Header
		n, err := wire.ParseHeader(b, &h)
		noErr(t, err)
		require(t, n == len(b), "header message carries %d extra bytes", len(b)-n)
		return h, b
	}
	readData := func() string {
		_, b, err := ws.Read(ctx)
		noErr(t, err)
		return string(b)
	}
	send(wire.Header{Command: "logon", CommandID: "1", ClientName: "js", AckType: "processed"}, "")
	h, _ := read()
	require(t, h.Command == "ack" && h.Status == "success" && h.ClientName == "js", "logon %+v", h)
	send(wire.Header{Command: "sow_and_subscribe", CommandID: "2", SubID: "s", QueryID: "s", Topic: "Orders", BatchSize: 2, AckType: "processed"}, "")
	h, _ = read()
	require(t, h.AckType == "processed", "%+v", h)
	h, _ = read()
	require(t, h.Command == "group_begin", "%+v", h)
	var got []string
	for {
		h, _ = read()
		if h.Command == "group_end" {
			break
		}
		require(t, h.Command == "sow", "%+v", h)
		for i := 0; i < h.BatchSize; i++ {
			rh, _ := read()
			require(t, rh.HasLength, "record header %+v", rh)
			got = append(got, readData())
		}
	}
	require(t, len(got) == 3, "sow records over websocket: %v", got)
	pub.send(wire.Header{Command: "p", Topic: "Orders"}, `{"order_key":9}`)
	h, _ = read()
	require(t, h.Command == "p" && h.SubIDs == "s", "%+v", h)
	require(t, readData() == `{"order_key":9}`, "")

	// The parts of a command may also come as messages of their own after a bare count.
	noErr(t, ws.Write(ctx, websocket.MessageBinary, binary.LittleEndian.AppendUint32(nil, 2)))
	noErr(t, ws.Write(ctx, websocket.MessageBinary, wire.AppendHeader(nil, &wire.Header{Command: "p", Topic: "Orders"})))
	noErr(t, ws.Write(ctx, websocket.MessageBinary, []byte(`{"order_key":10}`)))
	h, _ = read()
	require(t, h.Command == "p", "%+v", h)
	require(t, readData() == `{"order_key":10}`, "")
}

func writeSelfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	noErr(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	noErr(t, err)
	kb, err := x509.MarshalECPrivateKey(key)
	noErr(t, err)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	noErr(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	noErr(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600))
	cert, err := x509.ParseCertificate(der)
	noErr(t, err)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestTLSRoundTrip(t *testing.T) {
	certFile, keyFile, pool := writeSelfSigned(t)
	cfg := ordersConfig("")
	cfg.Transports = []TransportConfig{{Name: "secure", Type: "tcps", InetAddr: "127.0.0.1:0", Protocol: "amps", Certificate: certFile, PrivateKey: keyFile}}
	s := startServer(t, cfg)
	conn, err := tls.Dial("tcp", s.Addr("secure").String(), &tls.Config{RootCAs: pool, ServerName: "localhost"})
	noErr(t, err)
	c := newRawClient(t, conn)
	c.logon("tls")
	c.send(wire.Header{Command: "subscribe", CommandID: "s", Topic: "T", AckType: "processed"}, "")
	c.expectAck("processed", "success")
	c.send(wire.Header{Command: "p", Topic: "T"}, "secret")
	m := c.recv()
	require(t, string(m.payload) == "secret", "got %+v", m)

	// A missing certificate is an error at New, naming the transport.
	cfg.Transports[0].Certificate = filepath.Join(t.TempDir(), "missing.pem")
	_, err = New(cfg, WithLogger(quietLogger()))
	require(t, err != nil, "missing certificate accepted")
}

func TestAdmin(t *testing.T) {
	cfg := ordersConfig("")
	cfg.Admin.InetAddr = "127.0.0.1:0"
	s := startServer(t, cfg)
	c := dial(t, s.TCPAddr())
	c.logon("watcher")
	publishOrders(t, c, 4)
	resp, err := http.Get("http://" + s.AdminAddr().String() + "/amps")
	noErr(t, err)
	defer resp.Body.Close()
	var st AdminStatus
	noErr(t, json.NewDecoder(resp.Body).Decode(&st))
	require(t, st.Name == "AMPS" && len(st.Clients) == 1 && st.Clients[0].Name == "watcher" && st.Clients[0].MessagesIn >= 6, "clients %+v", st.Clients)
	var orders *AdminTopic
	for i := range st.Topics {
		if st.Topics[i].Name == "Orders" {
			orders = &st.Topics[i]
		}
	}
	require(t, orders != nil && orders.SOW && orders.SOWRecords == 4 && orders.MessagesIn == 4, "topics %+v", st.Topics)
	resp2, err := http.Get("http://" + s.AdminAddr().String() + "/amps/topics")
	noErr(t, err)
	resp2.Body.Close()
	require(t, resp2.StatusCode == 200, "status %d", resp2.StatusCode)
}

func TestWebSocketTextModeAndBadInput(t *testing.T) {
	cfg := ordersConfig("")
	cfg.Transports = append(cfg.Transports, TransportConfig{Name: "ws", Type: "tcp", InetAddr: "127.0.0.1:0", Protocol: "websocket"})
	s := startServer(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url := "ws://" + s.Addr("ws").String() + "/amps/json"

	ws, _, err := websocket.Dial(ctx, url, nil)
	noErr(t, err)
	defer ws.CloseNow()
	noErr(t, ws.Write(ctx, websocket.MessageText, []byte("text")))
	noErr(t, ws.Write(ctx, websocket.MessageText, wire.AppendHeader(nil, &wire.Header{Command: "logon", CommandID: "1", ClientName: "txt", AckType: "processed"})))
	typ, b, err := ws.Read(ctx)
	noErr(t, err)
	var h wire.Header
	_, err = wire.ParseHeader(b, &h)
	noErr(t, err)
	require(t, typ == websocket.MessageText && h.Status == "success", "logon over text: %v %+v", typ, h)

	// A first message other than text/binary, and a malformed header, each close that connection only.
	for _, msgs := range [][]string{{"json"}, {"binary", "\x01\x00\x00\x00{not json"}} {
		bad, _, err := websocket.Dial(ctx, url, nil)
		noErr(t, err)
		for _, m := range msgs {
			noErr(t, bad.Write(ctx, websocket.MessageBinary, []byte(m)))
		}
		_, _, err = bad.Read(ctx)
		require(t, err != nil, "connection not closed after %q", msgs)
		bad.CloseNow()
	}
	noErr(t, ws.Write(ctx, websocket.MessageText, wire.AppendHeader(nil, &wire.Header{Command: "flush", CommandID: "2", AckType: "processed"})))
	_, b, err = ws.Read(ctx)
	noErr(t, err)
	_, err = wire.ParseHeader(b, &h)
	require(t, err == nil && h.CommandID == "2", "good client after bad ones: %+v %v", h, err)
}
