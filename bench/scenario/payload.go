package scenario

import (
	"fmt"
	"strings"
)

// PayloadSize is the size of every message body: a ~100-byte JSON order.
const PayloadSize = 100

// Symbols are the values of /symbol, one per fan-out subscriber.
var Symbols = [4]string{"MSFT", "AAPL", "GOOG", "AMZN"}

// The payload is a fixed template whose sequence number, timestamp and
// symbol are rewritten in place, so that building a message costs the same
// (nothing) on every side.
const (
	seqOff, seqLen = 7, 10
	tsOff, tsLen   = 23, 19
	symOff, symLen = 53, 4
)

var template = func() string {
	s := `{"seq":` + strings.Repeat("0", seqLen) + `,"ts":` + strings.Repeat("0", tsLen) +
		`,"symbol":"MSFT","price":62.15,"qty":100,"pad":"`
	s += strings.Repeat("x", PayloadSize-len(s)-2) + `"}`
	if len(s) != PayloadSize || s[symOff:symOff+symLen] != "MSFT" {
		panic(fmt.Sprintf("payload template: %d bytes: %s", len(s), s))
	}
	return s
}()

// payload is a reusable message body.
type payload []byte

func newPayload() payload { return payload(template) }

// set writes the sequence number and the symbol index into the body.
func (p payload) set(seq int64, sym int) {
	putDigits(p[seqOff:seqOff+seqLen], uint64(seq))
	copy(p[symOff:symOff+symLen], Symbols[sym])
}

// setTS writes a timestamp (Unix nanoseconds) into the body.
func (p payload) setTS(ns int64) { putDigits(p[tsOff:tsOff+tsLen], uint64(ns)) }

func putDigits(dst []byte, v uint64) {
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = byte('0' + v%10)
		v /= 10
	}
}

func getDigits(src []byte) (uint64, bool) {
	var v uint64
	for _, c := range src {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	return v, true
}

// seqOf reads the sequence number of a body.
func seqOf(b []byte) (int64, bool) {
	if len(b) != PayloadSize {
		return 0, false
	}
	v, ok := getDigits(b[seqOff : seqOff+seqLen])
	return int64(v), ok
}

// tsOf reads the timestamp of a body.
func tsOf(b []byte) (int64, bool) {
	if len(b) != PayloadSize {
		return 0, false
	}
	v, ok := getDigits(b[tsOff : tsOff+tsLen])
	return int64(v), ok
}

// symOf reads the symbol index of a body (-1 if unknown).
func symOf(b []byte) int {
	if len(b) != PayloadSize {
		return -1
	}
	s := string(b[symOff : symOff+symLen])
	for i, x := range Symbols {
		if x == s {
			return i
		}
	}
	return -1
}

// counter verifies one subscriber's stream: every body has the right size,
// the expected symbol, and the expected sequence number: 0, 1, 2, ... for a
// subscriber of everything, sym, sym+4, ... for a subscriber of one symbol
// (the publisher assigns symbols round robin). A lost, duplicated or
// reordered message fails the run.
type counter struct {
	sym     int // -1: any
	step    int64
	n       int64
	bytes   int64
	last    int64
	invalid error
}

func newCounter(sym int, step int64) *counter {
	return &counter{sym: sym, step: step, last: int64(max(sym, 0)) - step}
}

// add checks one body; it must be called from one goroutine at a time.
func (c *counter) add(b []byte) {
	if c.invalid != nil {
		return
	}
	seq, ok := seqOf(b)
	switch {
	case !ok:
		c.invalid = fmt.Errorf("message %d: malformed body of %d bytes", c.n, len(b))
	case c.sym >= 0 && symOf(b) != c.sym:
		c.invalid = fmt.Errorf("message %d: symbol %q, want %q", c.n, b[symOff:symOff+symLen], Symbols[c.sym])
	case seq != c.last+c.step:
		c.invalid = fmt.Errorf("message %d: seq %d after %d (want +%d): lost or reordered", c.n, seq, c.last, c.step)
	}
	c.last = seq
	c.n++
	c.bytes += int64(len(b))
}
