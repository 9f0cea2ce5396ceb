package ampserver

import (
	"bufio"
	"context"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"ampsflume/ampserver/repl"
	"ampsflume/ampserver/txlog"
)

// Link timing.
const (
	linkDialTimeout  = 2 * time.Second
	linkHelloTimeout = 5 * time.Second
	linkRetryMin     = 50 * time.Millisecond
	linkRetryMax     = time.Second
	linkPoll         = 200 * time.Millisecond // journal re-read when no wake-up came
)

// outLink sends this instance's journal to one destination.
type outLink struct {
	rp     *replicator
	dest   *DestinationConfig
	topics []*regexp.Regexp
	wake   chan struct{}

	// version is the protocol version offered in Hello (0: repl.Version),
	// lowered when the destination refuses it (an instance of an older
	// version, which then gets a link without heartbeats) until that link
	// ends: the destination may come back upgraded.
	version uint64
	beat    atomic.Pointer[linkBeat] // the current connection's watch (nil: none)

	mu        sync.Mutex
	connected bool
	scanned   uint64   // journal position the sender has read up to
	inflight  []uint64 // sent, not yet acked, in order
	acked     uint64   // highest seq the destination persisted
}

// effective is the journal position up to which every record this link
// must send has been persisted by the destination; ok is false when the
// link is down.
func (ol *outLink) effective() (uint64, bool) {
	ol.mu.Lock()
	defer ol.mu.Unlock()
	if !ol.connected {
		return 0, false
	}
	if len(ol.inflight) > 0 {
		return ol.inflight[0] - 1, true
	}
	return ol.scanned, true
}

func (ol *outLink) stopped() bool {
	select {
	case <-ol.rp.srv.flushStop:
		return true
	default:
		return false
	}
}

// run keeps the link up until the server shuts down.
func (ol *outLink) run() {
	log := ol.rp.log.With("destination", ol.dest.Name, "addr", ol.dest.InetAddr)
	backoff := linkRetryMin
	for !ol.stopped() {
		up, err := ol.session()
		if ol.stopped() {
			return
		}
		if ol.down() {
			log.Warn("replication link lost; publishes are acknowledged without this destination until it returns", "err", err)
		} else if !up {
			log.Debug("replication link attempt failed", "err", err)
		}
		if up {
			backoff = linkRetryMin
			ol.version = 0
		}
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-ol.rp.srv.flushStop:
			t.Stop()
			return
		}
		backoff = min(2*backoff, linkRetryMax)
	}
}

// down marks the link disconnected, so that sync acks stop waiting for
// it; it reports whether the link was connected.
func (ol *outLink) down() bool {
	ol.mu.Lock()
	was := ol.connected
	ol.connected, ol.inflight = false, nil
	ol.mu.Unlock()
	if was {
		ol.rp.srv.acksChanged()
	}
	return was
}

// heartbeat is the interval this link beats at.
func (ol *outLink) heartbeat() time.Duration {
	if ol.dest.HeartbeatInterval > 0 {
		return ol.dest.HeartbeatInterval
	}
	return ol.rp.cfg.heartbeat()
}

func (ol *outLink) dial() (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), linkDialTimeout)
	defer cancel()
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", ol.dest.InetAddr)
	if err != nil {
		return nil, err
	}
	if tc, ok := nc.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
		tc.SetKeepAlivePeriod(5 * time.Second)
	}
	if !ol.dest.TLS {
		return nc, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: ol.dest.ServerName, InsecureSkipVerify: ol.dest.InsecureSkipVerify}
	if cfg.ServerName == "" {
		cfg.ServerName, _, _ = net.SplitHostPort(ol.dest.InetAddr)
	}
	if ol.dest.CAFile != "" {
		pem, err := os.ReadFile(ol.dest.CAFile)
		if err != nil {
			nc.Close()
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			nc.Close()
			return nil, fmt.Errorf("%s: no certificate found", ol.dest.CAFile)
		}
		cfg.RootCAs = pool
	}
	tc := tls.Client(nc, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		nc.Close()
		return nil, err
	}
	return tc, nil
}

// session runs one connection: handshake, then the journal stream. up
// reports whether the handshake succeeded.
func (ol *outLink) session() (up bool, err error) {
	nc, err := ol.dial()
	if err != nil {
		return false, err
	}
	defer nc.Close()
	rp := ol.rp
	pw := ol.dest.Password
	if rp.cfg.Secret != "" {
		pw = rp.cfg.Secret
	}
	version := ol.version
	if version == 0 {
		version = repl.Version
	}
	hello := repl.AppendHello(nil, &repl.Hello{Version: version, Instance: rp.name, User: ol.dest.User, Password: pw})
	if version >= repl.VersionHeartbeat {
		// The first heartbeat tells the destination our interval.
		hello = repl.AppendHeartbeat(hello, ol.heartbeat())
	}
	nc.SetDeadline(time.Now().Add(linkHelloTimeout))
	if _, err := nc.Write(hello); err != nil {
		return false, err
	}
	rd := repl.NewReader(nc)
	typ, body, err := rd.Next()
	if err != nil {
		return false, err
	}
	var resume uint64
	switch typ {
	case repl.TWelcome:
		w, err := repl.DecodeWelcome(body)
		if err != nil {
			return false, err
		}
		resume = w.Resume
	case repl.TRefused:
		reason, _ := repl.DecodeRefused(body)
		if version > repl.MinVersion && strings.HasPrefix(reason, "unsupported version") {
			// An instance of an older version: offer it the version it
			// speaks, without heartbeats, from the next attempt on.
			ol.version = repl.MinVersion
			rp.log.Warn("replication destination speaks an older link protocol; this link has no heartbeat", "destination", ol.dest.Name, "reason", reason)
		}
		return false, fmt.Errorf("refused by the destination: %s", reason)
	default:
		return false, fmt.Errorf("%w: unexpected frame %q", repl.ErrMalformed, typ)
	}
	nc.SetDeadline(time.Time{})
	l := rp.srv.jr.log
	if next := l.NextSeq(); resume >= next {
		// The destination has more of this journal than this journal
		// has: this journal lost its tail (not a process crash, which
		// keeps what was written). Send everything it still has; the
		// destination drops what it already holds.
		rp.log.Warn("replication destination is ahead of this journal; resending", "destination", ol.dest.Name, "resume", resume, "next", next)
		resume = 0
	}
	ol.mu.Lock()
	ol.connected, ol.inflight, ol.acked, ol.scanned = true, nil, resume, resume
	ol.mu.Unlock()
	rp.log.Info("replication link up", "destination", ol.dest.Name, "resume_after", resume)

	// Every write to the connection holds wmu: the stream below, and the
	// heartbeats of an idle link.
	var wmu sync.Mutex
	bw := bufio.NewWriterSize(nc, 256<<10)
	var beat *linkBeat
	if version >= repl.VersionHeartbeat {
		beat = newLinkBeat(rp.srv.clock, ol.heartbeat(), &wmu, func(frame []byte) error {
			if _, err := bw.Write(frame); err != nil {
				return err
			}
			return bw.Flush()
		}, func(silent time.Duration) {
			// Declared dead: acks stop waiting now, not when the
			// goroutines below notice the closed connection.
			if ol.down() {
				rp.log.Warn("replication destination silent; link declared dead, publishes are acknowledged without it until it returns",
					"destination", ol.dest.Name, "silent", silent)
			}
			nc.Close()
		})
		ol.beat.Store(beat)
		defer func() {
			beat.stop()
			ol.beat.CompareAndSwap(beat, nil)
		}()
	}

	ackErr := make(chan error, 1)
	go func() { ackErr <- ol.readAcks(rd, beat) }()

	r := l.NewReader(resume + 1)
	defer r.Close()
	var frame []byte
	unflushed := false // records written to bw since the last flush here
	for {
		rec, err := r.Next(^uint64(0))
		if errors.Is(err, io.EOF) {
			if unflushed {
				// Not locked when there is nothing to write: an idle
				// link's heartbeat must not find the lock taken.
				wmu.Lock()
				err = bw.Flush()
				wmu.Unlock()
				if err != nil {
					return true, err
				}
				unflushed = false
			}
			ol.mu.Lock()
			ol.scanned = max(ol.scanned, r.NextSeq()-1)
			ol.mu.Unlock()
			rp.srv.acksChanged()
			t := time.NewTimer(linkPoll)
			select {
			case <-ol.wake:
			case <-t.C:
			case err := <-ackErr:
				t.Stop()
				return true, err
			case <-rp.srv.flushStop:
				t.Stop()
				return true, nil
			}
			t.Stop()
			continue
		}
		if err != nil {
			return true, err
		}
		if !ol.sends(rec) {
			continue
		}
		frame = repl.AppendRecord(frame[:0], &repl.Record{
			Seq: rec.Seq, Timestamp: rec.Timestamp, Command: byte(rec.Command), Topic: rec.Topic,
			Client: rec.ClientName, ClientSeq: rec.ClientSeq, SowKey: rec.SowKey, Data: rec.Data,
		})
		ol.mu.Lock()
		ol.inflight = append(ol.inflight, rec.Seq)
		ol.scanned = rec.Seq
		ol.mu.Unlock()
		if beat != nil {
			beat.sent() // before the write: the peer may answer before it returns
		}
		wmu.Lock()
		_, err = bw.Write(frame)
		wmu.Unlock()
		if err != nil {
			return true, err
		}
		unflushed = true
	}
}

// sends reports whether the record goes to this destination: published
// here (never back to where it came from), to a topic the destination
// takes.
func (ol *outLink) sends(rec *txlog.Record) bool {
	if rec.Origin != "" {
		return false
	}
	for _, re := range ol.topics {
		if re.MatchString(rec.Topic) {
			return true
		}
	}
	return false
}

// readAcks reads the destination's acks (and heartbeats, when beat is not
// nil) until the connection ends.
func (ol *outLink) readAcks(rd *repl.Reader, beat *linkBeat) error {
	for {
		typ, body, err := rd.Next()
		if err != nil {
			return err
		}
		if beat != nil {
			if err := beat.received(typ, body); err != nil {
				return err
			}
			if typ == repl.THeartbeat {
				continue
			}
		}
		if typ != repl.TAck {
			return fmt.Errorf("%w: unexpected frame %q", repl.ErrMalformed, typ)
		}
		seq, err := repl.DecodeAck(body)
		if err != nil {
			return err
		}
		ol.mu.Lock()
		if seq > ol.acked {
			ol.acked = seq
		}
		n := 0
		for n < len(ol.inflight) && ol.inflight[n] <= ol.acked {
			n++
		}
		ol.inflight = ol.inflight[n:]
		ol.mu.Unlock()
		ol.rp.srv.acksChanged()
	}
}

// inLink is one incoming replication connection.
type inLink struct {
	nc   net.Conn
	wmu  sync.Mutex               // held by every write: acks and heartbeats
	beat atomic.Pointer[linkBeat] // nil: a peer without heartbeats
}

// listenReplication opens an incoming amps-replication transport (TLS when
// the transport has a Certificate and PrivateKey).
func (s *Server) listenReplication(ctx context.Context, tc TransportConfig) error {
	if s.repl == nil {
		return fmt.Errorf("transport %q: an %s transport needs a <Replication> section", tc.Name, TransportReplication)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", tc.InetAddr)
	if err != nil {
		return fmt.Errorf("transport %q: %w", tc.Name, err)
	}
	if tc.Certificate != "" && tc.PrivateKey != "" {
		cert, err := tls.LoadX509KeyPair(tc.Certificate, tc.PrivateKey)
		if err != nil {
			ln.Close()
			return fmt.Errorf("transport %q: %w", tc.Name, err)
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	}
	s.mu.Lock()
	s.listeners[tc.Name] = ln
	s.mu.Unlock()
	s.log.Info("replication transport listening", "transport", tc.Name, "addr", ln.Addr().String())
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				s.log.Warn("accept", "transport", tc.Name, "err", err)
				time.Sleep(10 * time.Millisecond) // a transient accept error must not spin
				continue
			}
			in := &inLink{nc: nc}
			s.repl.mu.Lock()
			s.repl.inbound[in] = struct{}{}
			s.repl.mu.Unlock()
			select {
			case <-s.flushStop: // shutting down: the closer may have run already
				nc.Close()
			default:
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				err := s.serveReplication(in)
				nc.Close()
				s.repl.mu.Lock()
				delete(s.repl.inbound, in)
				s.repl.mu.Unlock()
				if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
					s.log.Warn("replication link from a peer ended", "remote", nc.RemoteAddr().String(), "err", err)
				}
			}()
		}
	}()
	return nil
}

// authenticate checks a peer's Hello.
func (rp *replicator) authenticate(h *repl.Hello) bool {
	if rp.cfg.Secret != "" {
		return subtle.ConstantTimeCompare([]byte(h.Password), []byte(rp.cfg.Secret)) == 1
	}
	if auth := rp.srv.cfg.Authentication; auth != nil {
		pw, ok := auth.Users[h.User]
		return ok && subtle.ConstantTimeCompare([]byte(h.Password), []byte(pw)) == 1
	}
	return true
}

// serveReplication receives one peer's stream: records are applied in
// order, and after each burst the journal is synced and the highest origin
// sequence number on disk is acknowledged (and remembered, so that the
// peer resumes after it).
func (s *Server) serveReplication(in *inLink) error {
	rp := s.repl
	nc := in.nc
	nc.SetDeadline(time.Now().Add(linkHelloTimeout))
	rd := repl.NewReader(nc)
	typ, body, err := rd.Next()
	if err != nil {
		return err
	}
	if typ != repl.THello {
		return fmt.Errorf("%w: expected hello, got %q", repl.ErrMalformed, typ)
	}
	h, err := repl.DecodeHello(body)
	if err != nil {
		return err
	}
	refuse := func(reason string) error {
		nc.Write(repl.AppendRefused(nil, reason))
		return fmt.Errorf("peer %q refused: %s", h.Instance, reason)
	}
	switch {
	case h.Version < repl.MinVersion || h.Version > repl.Version:
		return refuse(fmt.Sprintf("unsupported version %d", h.Version))
	case h.Instance == "" || h.Instance == rp.name:
		return refuse("bad instance name")
	case !rp.authenticate(&h):
		rp.log.Warn("replication peer refused", "peer", h.Instance, "remote", nc.RemoteAddr().String(), "reason", "auth failure")
		return refuse("auth failure")
	}
	o := rp.origin(h.Instance)
	o.mu.Lock()
	resume := o.persisted
	o.mu.Unlock()
	welcome := repl.AppendWelcome(nil, &repl.Welcome{Instance: rp.name, Resume: resume})
	interval := rp.cfg.heartbeat()
	beats := h.Version >= repl.VersionHeartbeat
	if beats {
		welcome = repl.AppendHeartbeat(welcome, interval)
	}
	if _, err := nc.Write(welcome); err != nil {
		return err
	}
	nc.SetDeadline(time.Time{})
	rp.log.Info("replication link from a peer up", "peer", h.Instance, "resume_after", resume, "heartbeat", beats)
	var beat *linkBeat
	if beats {
		beat = newLinkBeat(s.clock, interval, &in.wmu, func(frame []byte) error {
			_, err := nc.Write(frame)
			return err
		}, func(silent time.Duration) {
			rp.log.Warn("replication peer silent; link declared dead", "peer", h.Instance, "silent", silent)
			nc.Close()
		})
		in.beat.Store(beat)
		defer beat.stop()
	}
	var rec repl.Record
	var pending uint64
	var acked uint64 // records carry sequence numbers from 1
	var ack []byte
	for {
		typ, body, err := rd.Next()
		if err != nil {
			return err
		}
		if beat != nil {
			if err := beat.received(typ, body); err != nil {
				return err
			}
		}
		switch {
		case typ == repl.THeartbeat && beat != nil:
		case typ == repl.TRecord:
			if err := repl.DecodeRecord(body, &rec); err != nil {
				return err
			}
			o.mu.Lock()
			if rec.Seq > o.applied {
				if err := s.applyReplicated(h.Instance, &rec); err != nil {
					o.mu.Unlock()
					return err
				}
				o.applied = rec.Seq
			}
			o.mu.Unlock()
			pending = max(pending, rec.Seq)
		default:
			return fmt.Errorf("%w: unexpected frame %q", repl.ErrMalformed, typ)
		}
		// Group the sync with the rest of the burst; a heartbeat that
		// ends a burst ends it as a record would.
		if rd.Buffered() > 0 || pending == acked {
			continue
		}
		if err := s.jr.log.Sync(); err != nil {
			return fmt.Errorf("transaction log: %w", err)
		}
		o.mu.Lock()
		err = o.savePosition(pending)
		o.mu.Unlock()
		if err != nil {
			return fmt.Errorf("replication position: %w", err)
		}
		ack = repl.AppendAck(ack[:0], pending)
		if beat != nil {
			beat.sent() // before the write: the peer may answer before it returns
		}
		in.wmu.Lock()
		_, err = nc.Write(ack)
		in.wmu.Unlock()
		if err != nil {
			return err
		}
		acked = pending
	}
}
