package ampserver

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"ampsflume/amps/wire"
	"ampsflume/ampserver/txlog"
)

// bmRange is a bounded bookmark: "[start:end]", where '[' or '(' says
// whether the start itself is delivered and ']' or ')' whether the end is.
//
// The start is anything a plain bookmark subscription accepts (EPOCH, NOW,
// a message bookmark, a timestamp, or a comma list of these). The end is
// one point: a message bookmark, a timestamp, or NOW (the end of the
// journal when the subscription is placed, so that the range is the
// history up to now). EPOCH and lists are refused as ends: EPOCH would be
// an empty range, and a list names no single point to stop at.
type bmRange struct {
	start     string
	startIncl bool
	end       string
	endIncl   bool
}

// isRangeSpec tells whether a bookmark header is a range.
func isRangeSpec(spec string) bool {
	spec = strings.TrimSpace(spec)
	return spec != "" && (spec[0] == '[' || spec[0] == '(')
}

// parseRange parses a range; errors match txlog.ErrInvalidBookmark and say
// what is wrong.
func parseRange(spec string) (bmRange, error) {
	var r bmRange
	s := strings.TrimSpace(spec)
	bad := func(why string) (bmRange, error) {
		return bmRange{}, fmt.Errorf("bookmark range %q: %s: %w", spec, why, txlog.ErrInvalidBookmark)
	}
	if len(s) < 2 || (s[0] != '[' && s[0] != '(') {
		return bad("must open with '[' or '('")
	}
	switch s[len(s)-1] {
	case ']':
		r.endIncl = true
	case ')':
	default:
		return bad("must close with ']' or ')'")
	}
	r.startIncl = s[0] == '['
	inner := s[1 : len(s)-1]
	if strings.Count(inner, ":") != 1 {
		return bad("needs exactly one ':' between start and end")
	}
	start, end, _ := strings.Cut(inner, ":")
	r.start, r.end = strings.TrimSpace(start), strings.TrimSpace(end)
	if r.start == "" || r.end == "" {
		return bad("start and end must both be given")
	}
	for _, part := range strings.Split(r.start, ",") {
		if err := checkPoint(strings.TrimSpace(part)); err != nil {
			return bad("start: " + err.Error())
		}
	}
	switch {
	case strings.Contains(r.end, ","):
		return bad("the end must be one bookmark or timestamp, not a list")
	case r.end == txlog.Epoch:
		return bad("the end cannot be EPOCH")
	}
	if err := checkPoint(r.end); err != nil {
		return bad("end: " + err.Error())
	}
	return r, nil
}

// checkPoint validates one bookmark element: EPOCH, NOW, a message
// bookmark or a timestamp.
func checkPoint(p string) error {
	switch {
	case p == txlog.Epoch || p == txlog.Now:
		return nil
	case strings.HasSuffix(p, "|"):
		_, _, err := txlog.ParseBookmark(p)
		return err
	case p == "":
		return fmt.Errorf("empty element")
	}
	_, err := txlog.ParseTimestamp(p)
	return err
}

// rangeEnd is where a range subscription stops: before journal position seq
// (0: no position bound) and before records stamped at or after ts (Unix
// microseconds; 0: no time bound).
type rangeEnd struct {
	seq uint64
	ts  int64
}

// reached tells whether a record at journal position seq stamped at
// (Unix microseconds) is past the end.
func (e *rangeEnd) reached(seq uint64, at int64) bool {
	return (e.seq != 0 && seq != 0 && seq >= e.seq) || (e.ts != 0 && at >= e.ts)
}

// resolveRangeStart is where a range's replay starts. An exclusive
// timestamp start skips records stamped exactly at it; an inclusive
// message bookmark start delivers the named message too.
func (s *Server) resolveRangeStart(r bmRange, matches func(string) bool) (txlog.Start, error) {
	parts := strings.Split(r.start, ",")
	for i, p := range parts {
		p = strings.TrimSpace(p)
		parts[i] = p
		if r.startIncl || p == txlog.Epoch || p == txlog.Now || strings.HasSuffix(p, "|") {
			continue
		}
		t, err := txlog.ParseTimestamp(p)
		if err != nil {
			return txlog.Start{}, err
		}
		parts[i] = t.Add(time.Microsecond).UTC().Format("20060102T150405.000000Z")
	}
	st, err := s.resolveBookmark(strings.Join(parts, ","), matches)
	if err != nil || !r.startIncl || !st.Found {
		return st, err
	}
	l := s.jr.log
	var scratch []byte
	for _, p := range parts {
		pub, _, err := txlog.ParseBookmark(p)
		if err != nil {
			continue
		}
		f := st.Floors[pub]
		if f == 0 {
			continue
		}
		rec, ok, err := l.Get(f)
		if err != nil {
			return txlog.Start{}, err
		}
		if !ok || string(s.appendBookmarkOf(scratch[:0], rec)) != p {
			continue
		}
		// The named message is at f: start there, and skip only what the
		// publisher sent before it.
		st.Seq = min(st.Seq, f)
		if f > 1 {
			st.Floors[pub] = f - 1
		} else {
			delete(st.Floors, pub)
		}
	}
	return st, nil
}

// resolveRangeEnd turns a range's end into journal bounds; limit is the
// journal's end when the subscription was placed. A message bookmark end
// must name a message here, or (on a single instance) a journal position
// still to come, which the subscription then waits for.
func (s *Server) resolveRangeEnd(r bmRange, limit uint64) (rangeEnd, error) {
	var e rangeEnd
	l := s.jr.log
	switch {
	case r.end == txlog.Now:
		e.seq = limit
		return e, nil
	case strings.HasSuffix(r.end, "|"):
		pub, q, err := txlog.ParseBookmark(r.end)
		if err != nil {
			return e, err
		}
		at := q // journal position of the named message
		if s.repl != nil {
			// Replicating, a bookmark carries the publisher's own
			// sequence: locate the message here.
			_, floor, _ := s.repl.resumeOf(pub, q)
			at = floor
		} else if q >= limit {
			e.seq = q
			if r.endIncl {
				e.seq++
			}
			return e, nil
		}
		rec, ok, err := l.Get(at)
		if err != nil {
			return e, err
		}
		var scratch []byte
		if at == 0 || !ok || string(s.appendBookmarkOf(scratch, rec)) != r.end {
			return e, fmt.Errorf("range end %q names no message in the transaction log: %w", r.end, txlog.ErrInvalidBookmark)
		}
		e.seq = at
		if r.endIncl {
			e.seq++
		}
		return e, nil
	default:
		t, err := txlog.ParseTimestamp(r.end)
		if err != nil {
			return e, err
		}
		e.ts = t.UnixMicro()
		if r.endIncl {
			e.ts++
		}
		return e, nil
	}
}

// failBookmark refuses a bookmark subscription whose bookmark could not be
// resolved.
func (c *client) failBookmark(req *wire.Header, acks ackSet, err error) {
	if errors.Is(err, txlog.ErrInvalidBookmark) {
		c.srv.log.Debug("bookmark refused", append(c.logAttrs(), "bookmark", req.Bookmark, "err", err)...)
		c.fail(req, acks, reasonInvalidBookmark)
		return
	}
	c.srv.log.Error("bookmark replay failed", append(c.logAttrs(), "err", err)...)
	c.fail(req, acks, reasonReplayFailed)
}

// endLocked stops a range subscription for good; rp.mu is held.
func (rp *replay) endLocked() {
	rp.mode = modeEnded
	rp.gen++
	rp.queue = nil
	if rp.timer != nil {
		rp.timer.Stop()
	}
}

// ended tells whether the subscription was a range that reached its end;
// its id is free again.
func (sub *subscription) ended() bool {
	if sub.replay == nil {
		return false
	}
	sub.replay.mu.Lock()
	defer sub.replay.mu.Unlock()
	return sub.replay.mode == modeEnded
}

// rangeDone sends a finished range's completed ack and removes it. AMPS
// removes a range subscription at its end: nothing more is delivered.
func (s *Server) rangeDone(sub *subscription) {
	rp := sub.replay
	rp.mu.Lock()
	send := !rp.completed && rp.acks&ackCompleted != 0
	rp.completed = true
	rp.mu.Unlock()
	if send {
		sub.client.sendAck(&rp.req, "completed", "success", "")
	}
	s.removeSubs(func(x *subscription) bool { return x == sub })
}

// armRange starts the timer of a timestamp end.
func (s *Server) armRange(sub *subscription, limit uint64) {
	rp := sub.replay
	if rp.rng.ts == 0 {
		return
	}
	d := time.UnixMicro(rp.rng.ts).Sub(s.clock.Now())
	if d <= 0 {
		// Past already: the journal replay or the first live message
		// ends it, or, with neither, the replay when it would go live.
		rp.mu.Lock()
		rp.endDue = true
		rp.mu.Unlock()
		return
	}
	t := s.clock.AfterFunc(d, func() { s.endRangeAfterFanOut(sub) })
	rp.mu.Lock()
	rp.timer = t
	rp.mu.Unlock()
}

// endRangeAfterFanOut ends a range whose end came by time or journal
// position, after the fan-outs in progress on its topics are over: those
// may carry messages before the end. A range still replaying is ended by
// its replay when it would go live.
func (s *Server) endRangeAfterFanOut(sub *subscription) {
	for _, t := range s.topicsOf(sub) {
		t.mu.Lock()
		t.mu.Unlock() //nolint:staticcheck // a barrier: publishes in progress are done
	}
	rp := sub.replay
	rp.mu.Lock()
	switch rp.mode {
	case modeEnded:
		rp.mu.Unlock()
		return
	case modeLive:
		rp.endLocked()
		rp.mu.Unlock()
		s.rangeDone(sub)
		return
	}
	rp.endDue = true
	rp.mu.Unlock()
}

// topicsOf lists the existing topics a subscription covers.
func (s *Server) topicsOf(sub *subscription) []*topic {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ts []*topic
	for _, t := range s.topics {
		if sub.matchesTopic(t.name) {
			ts = append(ts, t)
		}
	}
	return ts
}
