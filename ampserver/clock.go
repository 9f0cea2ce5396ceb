package ampserver

import "time"

// Clock is the server's source of time, injectable so that heartbeats,
// conflation and timestamps can be tested without waiting.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f in its own goroutine after d.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a pending AfterFunc call.
type Timer interface {
	// Stop prevents the call if it has not started; it reports whether it did.
	Stop() bool
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }
func (realClock) AfterFunc(d time.Duration, f func()) Timer {
	return time.AfterFunc(d, f)
}

// wallClock gives the times of one series of publishes (a topic's, under
// its lock) with the real clock: the time a publish's frame was read
// (readClock), never before the time of an earlier publish of the series.
// Without a read time it reads the clock at the cost of a monotonic
// reading (time.Now reads both clocks, and a clock reading cost a tenth of
// a fanned-out publish): the last time.Now plus the monotonic time elapsed
// since, which is what time.Now would say unless the wall clock was set in
// between; it is read again every wallResync, so a step of the system
// clock shows within that. Not safe for concurrent use.
type wallClock struct {
	base time.Time // a time.Now reading, with its monotonic part
	last time.Time // the last time given
}

const wallResync = 10 * time.Millisecond

// at returns the time of a publish whose frame was read at read (zero:
// unknown).
func (w *wallClock) at(read time.Time) time.Time {
	if read.IsZero() {
		read = w.now()
	}
	if read.Before(w.last) {
		return w.last
	}
	w.last = read
	return read
}

func (w *wallClock) now() time.Time {
	if !w.base.IsZero() {
		if d := time.Since(w.base); d >= 0 && d < wallResync {
			return w.base.Add(d)
		}
	}
	w.base = time.Now()
	return w.base
}

// timestampLayout is AMPS's timestamp: ISO-8601 basic form, microseconds, UTC.
const timestampLayout = "20060102T150405.000000Z"

// timestamp formats t as AMPS does. Every publish is stamped, so this is
// written out by hand: time.Format parses its layout on every call, which
// cost more than the rest of the publish path.
func timestamp(t time.Time) string {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.Format(timestampLayout)
	}
	hour, minute, sec := t.Clock()
	var b [len(timestampLayout)]byte
	digits(b[0:4], year)
	digits(b[4:6], int(month))
	digits(b[6:8], day)
	b[8] = 'T'
	digits(b[9:11], hour)
	digits(b[11:13], minute)
	digits(b[13:15], sec)
	b[15] = '.'
	digits(b[16:22], t.Nanosecond()/1000) // truncated, as Format does
	b[22] = 'Z'
	return string(b[:])
}

// stampCache formats a series of timestamps of one writer: the date and
// time of day are written again only when the second changes, the
// microseconds every time. Not safe for concurrent use.
type stampCache struct {
	sec   int64
	micro int // the microseconds in buf
	ok    bool
	buf   [len(timestampLayout)]byte
}

// format returns timestamp(t)'s bytes, valid until the next call.
func (c *stampCache) format(t time.Time) []byte {
	t = t.UTC()
	if sec := t.Unix(); !c.ok || sec != c.sec {
		s := timestamp(t)
		if len(s) != len(c.buf) {
			return []byte(s) // a year beyond four digits
		}
		copy(c.buf[:], s)
		c.sec, c.micro, c.ok = sec, t.Nanosecond()/1000, true
		return c.buf[:]
	}
	// Publishes read together share their time (readClock): the digits
	// are often the same as last time.
	if micro := t.Nanosecond() / 1000; micro != c.micro {
		digits(c.buf[16:22], micro)
		c.micro = micro
	}
	return c.buf[:]
}

// digits writes v zero-padded into all of dst.
func digits(dst []byte, v int) {
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = byte('0' + v%10)
		v /= 10
	}
}
