package ampserver

import (
	"errors"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"ampsflume/amps/wire"
	"ampsflume/ampserver/options"
	"ampsflume/ampserver/txlog"
)

// Reasons for refused bookmark subscriptions.
const (
	reasonInvalidBookmark = "invalid bookmark"
	reasonReplayFailed    = "txn replay failed"
)

// replayMode is where a bookmark subscription stands.
type replayMode uint8

const (
	modePaused    replayMode = iota // nothing delivered; resumes from next
	modeReplaying                   // journal replay running; live messages queued
	modeLive                        // live messages delivered directly
	modeEnded                       // a range reached its end (bookmark_range.go)
)

// replay is the state of a bookmark subscription. Live messages reach it
// under their topic's lock (intercept); the replay goroutine delivers from
// the journal and then the queued live messages.
//
// No gap, no duplicate: the subscription is registered, and only then the
// journal's end position P is taken. Every record below P is replayed from
// the journal, and a live message below P is dropped; a record at or above
// P was appended after the registration, so its publisher sees the
// subscription and hands it to intercept. A publisher appends to the
// journal and fans out in two steps (both under its topic lock, which the
// replay does not take), so a message below P can reach intercept after
// the replay went live: intercept compares its journal position with P
// (liveFrom) in every mode, not only while queueing.
//
// next is kept current by whoever delivers (under mu), so that pause never
// depends on the replay goroutine noticing it, and a stale goroutine never
// moves the resume point of a later one.
type replay struct {
	srv   *Server
	req   wire.Header // the subscribe command, for acks
	acks  ackSet
	start txlog.Start
	pace  pacing

	mu        sync.Mutex
	mode      replayMode
	gen       uint64 // bumped to stop a running replay goroutine
	queue     []Delivery
	next      uint64 // where a resume starts: after the last delivery
	liveFrom  uint64 // live messages below it were replayed from the journal
	lastSeq   uint64 // highest journal position delivered
	lastBM    string
	ackedBM   string // last bookmark sent in a persisted ack
	completed bool   // the completed ack was sent

	// A range subscription (bookmark_range.go) stops at rng. endDue says
	// its end came (by time or journal position) while the replay was
	// still running: the replay goroutine ends it when it would go live.
	rng      *rangeEnd
	endDue   bool
	endFired bool  // the journal reached the end position (persisted)
	timer    Timer // fires at a timestamp end still to come
	sub      *subscription
}

// intercept takes a live delivery; it reports true when it took over.
func (rp *replay) intercept(d *Delivery) bool {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	switch rp.mode {
	case modePaused:
		return true // replayed from the journal on resume
	case modeReplaying:
		rp.queue = append(rp.queue, *d)
		return true
	case modeEnded:
		return true
	}
	if d.seq != 0 && d.seq < rp.liveFrom {
		return true // appended before the replay's limit: replayed already
	}
	if rp.rng != nil && rp.rng.reached(d.seq, d.at) {
		// Under the topic lock: every earlier message of the range was
		// handed over already, so the completed ack follows them.
		rp.endLocked()
		sub := rp.sub
		rp.srv.wg.Add(1)
		go func() {
			defer rp.srv.wg.Done()
			rp.srv.rangeDone(sub)
		}()
		return true
	}
	rp.noteDelivered(d)
	return false
}

// noteDelivered tracks the resume point and the bookmark for persisted
// acks; mu is held.
func (rp *replay) noteDelivered(d *Delivery) {
	if d.seq > rp.lastSeq {
		rp.lastSeq, rp.lastBM = d.seq, d.Bookmark
	}
	if d.seq != 0 && d.seq >= rp.next {
		rp.next = d.seq + 1
	}
}

// stop ends the replay goroutine; called when the subscription is removed.
func (rp *replay) stop() {
	rp.mu.Lock()
	rp.gen++
	if rp.mode != modeEnded {
		rp.mode = modePaused
	}
	rp.queue = nil
	if rp.timer != nil {
		rp.timer.Stop()
	}
	rp.mu.Unlock()
	if j := rp.srv.jr; j != nil {
		j.mu.Lock()
		for sub := range j.bsubs {
			if sub.replay == rp {
				delete(j.bsubs, sub)
			}
		}
		j.mu.Unlock()
	}
}

// persisted sends the subscription's persisted ack: the last bookmark
// delivered, once the journal is on disk up to it.
func (rp *replay) persisted(sub *subscription, durable uint64) {
	rp.mu.Lock()
	if rp.rng != nil && rp.rng.seq != 0 && durable+1 >= rp.rng.seq && rp.mode != modeEnded && !rp.endFired {
		// Every record before the end is in the journal: end the range
		// once their fan-outs are over (a goroutine, since this runs on
		// the journal's flusher, which publishers may be waiting for).
		rp.endFired = true
		rp.srv.wg.Add(1)
		go func() {
			defer rp.srv.wg.Done()
			rp.srv.endRangeAfterFanOut(sub)
		}()
	}
	if rp.acks&ackPersisted == 0 {
		rp.mu.Unlock()
		return
	}
	bm := rp.lastBM
	if bm == "" || rp.lastSeq > durable || bm == rp.ackedBM {
		rp.mu.Unlock()
		return
	}
	rp.ackedBM = bm
	rp.mu.Unlock()
	h := wire.Header{Command: "ack", AckType: "persisted", Status: "success", SubID: sub.id, Bookmark: bm}
	sub.client.sendFrame(&h, nil)
}

// persistedIfAsked sends the subscription's persisted ack if it asked for
// them; group commits send the later ones.
func (s *Server) persistedIfAsked(sub *subscription) {
	if sub.replay.acks&ackPersisted != 0 {
		sub.replay.persisted(sub, s.jr.log.Durable())
	}
}

// deliverNow sends a replayed or queued message through the subscription's
// processing, bypassing intercept.
func (sub *subscription) deliverNow(d *Delivery) {
	if sub.ext != nil && sub.ext.intercept(sub, d) {
		return
	}
	sub.send(d)
}

// bookmarkSubscribe starts a subscribe with a bookmark: replay from the
// journal, then live.
func (c *client) bookmarkSubscribe(req *wire.Header, acks ackSet, sub *subscription, withSOW bool) {
	s := c.srv
	j := s.jr
	o := sub.opts
	switch {
	case withSOW:
		c.fail(req, acks, "not supported") // historical SOW queries are not implemented
		return
	case sub.delta || (o != nil && o.Aggregated()):
		c.fail(req, acks, options.Reason) // AMPS refuses deltas and aggregation with bookmarks
		return
	case j == nil || (sub.re == nil && !j.journaled(sub.topic)):
		c.fail(req, acks, reasonReplayFailed) // the topic is not in the transaction log
		return
	}
	pace, ok := parsePacing(o)
	if !ok {
		c.fail(req, acks, options.Reason)
		return
	}
	notFound := "now"
	if o != nil && o.BookmarkNotFound != "" {
		notFound = strings.ToLower(o.BookmarkNotFound)
		if notFound != "now" && notFound != "epoch" && notFound != "fail" {
			c.fail(req, acks, options.Reason)
			return
		}
	}
	var rng bmRange
	isRange := isRangeSpec(req.Bookmark)
	var st txlog.Start
	var err error
	if isRange {
		if rng, err = parseRange(req.Bookmark); err == nil {
			st, err = s.resolveRangeStart(rng, sub.matchesTopic) // bookmark_range.go
		}
	} else {
		st, err = s.resolveBookmark(req.Bookmark, sub.matchesTopic) // replication_resume.go
	}
	if err != nil {
		c.failBookmark(req, acks, err)
		return
	}
	if !st.Found {
		switch notFound {
		case "fail":
			c.fail(req, acks, reasonInvalidBookmark)
			return
		case "epoch":
			st.Seq = j.log.FirstSeq()
		}
		// now: AMPS assumes a failover happened and starts at the end.
	}
	rp := &replay{srv: s, sub: sub, req: *req, acks: acks, start: st, pace: pace, next: st.Seq, mode: modeReplaying}
	if o != nil && o.Pause {
		rp.mode = modePaused
	}
	sub.replay = rp
	s.addSub(sub)
	limit := j.log.NextSeq()
	if isRange {
		end, err := s.resolveRangeEnd(rng, limit)
		if err != nil {
			s.removeSubs(func(x *subscription) bool { return x == sub })
			c.failBookmark(req, acks, err)
			return
		}
		rp.mu.Lock()
		rp.rng = &end
		rp.mu.Unlock()
	}
	c.subs[sub.id] = sub
	if acks&ackProcessed != 0 {
		c.sendAck(req, "processed", "success", "")
	}
	if rp.rng != nil {
		s.armRange(sub, limit)
	}
	if acks&ackPersisted != 0 || (rp.rng != nil && rp.rng.seq > limit) {
		j.mu.Lock()
		j.bsubs[sub] = struct{}{}
		j.mu.Unlock()
	}
	if rp.mode == modeReplaying {
		rp.mu.Lock()
		gen := rp.gen
		rp.mu.Unlock()
		s.startReplay(sub, gen, st.Seq, limit)
	}
}

// pauseResume handles subscribe commands with the pause or resume option
// that name existing subscriptions (a comma list of sub ids). It reports
// whether it handled the command.
func (c *client) pauseResume(req *wire.Header, acks ackSet) bool {
	if req.Bookmark != "" || (!hasOpt(req.Options, "pause") && !hasOpt(req.Options, "resume")) {
		return false
	}
	var subs []*subscription
	for _, id := range strings.Split(req.SubID, ",") {
		sub := c.subs[strings.TrimSpace(id)]
		if sub == nil || sub.replay == nil {
			return false
		}
		subs = append(subs, sub)
	}
	c.ackReceived(req, acks)
	for _, sub := range subs {
		if hasOpt(req.Options, "resume") {
			c.srv.resumeReplay(sub)
		} else {
			sub.replay.pause()
		}
	}
	if acks&ackProcessed != 0 {
		c.sendAck(req, "processed", "success", "")
	}
	return true
}

func hasOpt(opts, name string) bool {
	for _, o := range strings.Split(opts, ",") {
		if strings.TrimSpace(o) == name {
			return true
		}
	}
	return false
}

// pause stops delivery; resume replays from after the last message
// delivered.
func (rp *replay) pause() {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	if rp.mode == modePaused {
		return
	}
	// next is current: a running replay goroutine stops delivering when
	// it sees the new generation.
	rp.gen++
	rp.mode = modePaused
	rp.queue = nil
}

func (s *Server) resumeReplay(sub *subscription) {
	rp := sub.replay
	rp.mu.Lock()
	if rp.mode != modePaused {
		rp.mu.Unlock()
		return
	}
	rp.mode = modeReplaying
	rp.gen++
	gen, from := rp.gen, rp.next
	rp.mu.Unlock()
	// The mode changed before the limit is taken: see the type comment.
	s.startReplay(sub, gen, from, s.jr.log.NextSeq())
}

func (s *Server) startReplay(sub *subscription, gen, from, limit uint64) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.runReplay(sub, gen, from, limit)
	}()
}

// replayQueueBound bounds what a replay lets queue up for its client: what
// the writer is writing plus what waits behind it. Reading the journal is
// much faster than a client reads a socket: bounded only by the
// slow-consumer limit, a replay kept the client's outbound queue near half
// of it (32 MiB by default), which with the garbage collector's headroom on
// top was most of the server's memory during a replay. The bound is not
// smaller because the queue is most of what is live while a replay runs:
// with 1 MiB, a subscriber that allocates per message (an amps.Client
// handler) made the collector run about four times as often as with 32 MiB,
// which cost a fifth of the replay rate on two busy cores; 8 MiB keeps
// about twice as many collections as 32 MiB.
const replayQueueBound = 8 << 20

// replayHighWater is how much may wait behind the writer's current batch
// before replay pauses, so that a long replay neither makes the client a
// slow consumer nor holds the client's whole queue allowance in memory.
// The replay resumes (replayLowWater) when the writer takes the batch, so
// that the writer always finds a full one.
func (s *Server) replayHighWater() int { return min(s.cfg.MaxOutboundBytes/2, replayQueueBound) / 2 }

// replayLowWater is where a paused replay resumes.
func (s *Server) replayLowWater() int { return s.replayHighWater() / 2 }

// runReplay delivers journal records in [from, limit) that the subscription
// matches, then the live messages queued meanwhile, then goes live.
func (s *Server) runReplay(sub *subscription, gen, from, limit uint64) {
	rp := sub.replay
	c := sub.client
	r := s.jr.log.NewReader(from)
	defer r.Close()
	pacer := newPacer(s.clock, rp.pace)
	// A replay formats a timestamp and a bookmark per record: they are
	// carved from blocks rather than allocated one by one.
	var stamps stampCache
	var strs wire.Arena
	var scratch []byte
	current := func() bool {
		rp.mu.Lock()
		defer rp.mu.Unlock()
		return rp.gen == gen
	}
	lim := limit
	if rp.rng != nil && rp.rng.seq != 0 && rp.rng.seq < lim {
		lim = rp.rng.seq
	}
	ended := rp.rng != nil && rp.rng.seq != 0 && rp.rng.seq <= limit
	for n := 0; ; n++ {
		if n%256 == 0 && !current() {
			return
		}
		rec, err := r.Next(lim)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			s.log.Error("bookmark replay failed", append(c.logAttrs(), "sub_id", sub.id, "err", err)...)
			c.fail(&rp.req, rp.acks, reasonReplayFailed)
			return
		}
		if rp.rng != nil && rp.rng.ts != 0 && rec.Timestamp >= rp.rng.ts {
			ended = true
			break
		}
		if rec.Command == txlog.SowDelete || !sub.matchesTopic(rec.Topic) || rp.start.Skip(rec) ||
			(sub.filter != nil && !sub.filter.Match(rec.Data)) {
			continue
		}
		if !pacer.wait(rec, c.done) {
			return
		}
		if c.waitingBytes() > s.replayHighWater() && !c.waitQueued(s.replayLowWater()) {
			return
		}
		scratch = s.appendBookmarkOf(scratch[:0], rec)
		d := Delivery{
			Topic: rec.Topic, SowKey: rec.SowKey, Timestamp: strs.String(stamps.format(rec.Time())),
			Data: rec.Data, Bookmark: strs.String(scratch), seq: rec.Seq,
		}
		if sub.ext != nil {
			d.Data = append([]byte(nil), rec.Data...) // conflation may hold it
		}
		rp.mu.Lock()
		if rp.gen != gen {
			rp.mu.Unlock()
			return
		}
		rp.noteDelivered(&d)
		rp.mu.Unlock()
		sub.deliverNow(&d)
		if n%1024 == 1023 {
			s.persistedIfAsked(sub)
		}
	}
	rp.mu.Lock()
	if rp.gen != gen {
		rp.mu.Unlock()
		return
	}
	if ended {
		rp.endLocked()
		rp.mu.Unlock()
		s.rangeDone(sub)
		return
	}
	rp.next = max(rp.next, limit) // everything below limit was replayed or skipped
	// A range sends its completed ack at its end, not when it goes live.
	sendCompleted := !rp.completed && rp.acks&ackCompleted != 0 && rp.rng == nil
	rp.completed = rp.completed || rp.rng == nil
	rp.mu.Unlock()
	if sendCompleted {
		c.sendAck(&rp.req, "completed", "success", "")
	}
	for {
		rp.mu.Lock()
		if rp.gen != gen {
			rp.mu.Unlock()
			return
		}
		q := rp.queue
		rp.queue = nil
		if len(q) == 0 && rp.endDue {
			rp.endLocked()
			rp.mu.Unlock()
			s.rangeDone(sub)
			return
		}
		if len(q) == 0 {
			rp.mode = modeLive
			rp.liveFrom = limit
			rp.mu.Unlock()
			s.persistedIfAsked(sub)
			return
		}
		rp.mu.Unlock()
		for i := range q {
			d := &q[i]
			if d.seq != 0 && d.seq < limit {
				continue // replayed from the journal
			}
			if c.waitingBytes() > s.replayHighWater() && !c.waitQueued(s.replayLowWater()) {
				return
			}
			rp.mu.Lock()
			if rp.gen != gen {
				rp.mu.Unlock()
				return
			}
			if rp.rng != nil && rp.rng.reached(d.seq, d.at) {
				rp.endLocked()
				rp.mu.Unlock()
				s.rangeDone(sub)
				return
			}
			rp.noteDelivered(d)
			rp.mu.Unlock()
			sub.deliverNow(d)
		}
	}
}

// pacing is a replay rate: messages or bytes per second, or a multiple of
// the original publish rate, with an optional cap on any one wait.
type pacing struct {
	msgsPerSec  float64
	bytesPerSec float64
	multiple    float64
	maxGap      time.Duration
}

// parsePacing reads rate and rate_max_gap.
func parsePacing(o *options.Options) (pacing, bool) {
	var p pacing
	if o == nil {
		return p, true
	}
	if o.RateMaxGap != "" {
		d, err := options.ParseInterval(o.RateMaxGap)
		if err != nil {
			return p, false
		}
		p.maxGap = d
	}
	v := strings.TrimSpace(o.Rate)
	if v == "" {
		return p, true
	}
	mult := 1.0
	switch u := strings.ToUpper(v); {
	case strings.HasSuffix(u, "X"):
		f, err := strconv.ParseFloat(v[:len(v)-1], 64)
		if err != nil || f <= 0 {
			return p, false
		}
		p.multiple = f
		return p, true
	case strings.HasSuffix(u, "KB"):
		mult, v = 1<<10, v[:len(v)-2]
	case strings.HasSuffix(u, "MB"):
		mult, v = 1<<20, v[:len(v)-2]
	case strings.HasSuffix(u, "GB"):
		mult, v = 1<<30, v[:len(v)-2]
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f <= 0 {
		return p, false
	}
	if mult > 1 {
		p.bytesPerSec = f * mult
	} else {
		p.msgsPerSec = f
	}
	return p, true
}

// pacer spaces replayed messages on the server clock. Targets are computed
// from the start of the replay, so that waits do not drift.
type pacer struct {
	clk     Clock
	p       pacing
	started bool
	t0      time.Time // replay start
	ts0     int64     // first record's timestamp (multiple mode)
	prevTS  int64
	shift   time.Duration // time removed by rate_max_gap
	sent    float64       // messages or bytes sent so far
}

func newPacer(clk Clock, p pacing) *pacer { return &pacer{clk: clk, p: p} }

// wait blocks until rec may be sent; it returns false if done closed.
func (pc *pacer) wait(rec *txlog.Record, done <-chan struct{}) bool {
	if pc.p.msgsPerSec == 0 && pc.p.bytesPerSec == 0 && pc.p.multiple == 0 {
		return true
	}
	if !pc.started {
		pc.started, pc.t0, pc.ts0, pc.prevTS = true, pc.clk.Now(), rec.Timestamp, rec.Timestamp
	}
	var offset time.Duration
	switch {
	case pc.p.multiple > 0:
		gap := time.Duration(float64(time.Duration(rec.Timestamp-pc.prevTS)*time.Microsecond) / pc.p.multiple)
		if pc.p.maxGap > 0 && gap > pc.p.maxGap {
			pc.shift += gap - pc.p.maxGap
		}
		pc.prevTS = rec.Timestamp
		offset = time.Duration(float64(time.Duration(rec.Timestamp-pc.ts0)*time.Microsecond)/pc.p.multiple) - pc.shift
	case pc.p.msgsPerSec > 0:
		offset = time.Duration(pc.sent / pc.p.msgsPerSec * float64(time.Second))
		pc.sent++
	default:
		offset = time.Duration(pc.sent / pc.p.bytesPerSec * float64(time.Second))
		pc.sent += float64(len(rec.Data))
	}
	d := pc.t0.Add(offset).Sub(pc.clk.Now())
	if d <= 0 {
		return true
	}
	ch := make(chan struct{})
	t := pc.clk.AfterFunc(d, func() { close(ch) })
	select {
	case <-ch:
		return true
	case <-done:
		t.Stop()
		return false
	}
}
