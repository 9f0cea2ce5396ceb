package txlog

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// ErrInvalidBookmark is returned for bookmark text the log cannot interpret.
var ErrInvalidBookmark = errors.New("invalid bookmark")

// Start is where a bookmark replay begins.
type Start struct {
	// Seq is the first sequence number to deliver.
	Seq uint64
	// Found is false when the bookmark named messages none of which is in
	// the journal; the caller decides (AMPS starts at the end by default).
	Found bool
	// Floors, per publisher, is the last sequence number the subscriber
	// already has: records of that publisher at or below it are skipped.
	Floors map[uint64]uint64
}

// Skip reports whether a replay from s must skip r.
func (s *Start) Skip(r *Record) bool {
	if s.Floors == nil {
		return false
	}
	f, ok := s.Floors[r.Publisher]
	return ok && r.Seq <= f
}

// Special bookmark values.
const (
	Epoch = "0"
	Now   = "0|1|"
)

// Resolve interprets a subscription bookmark: Epoch, Now, a message
// bookmark "<publisher>|<seq>|", an ISO-8601 basic UTC timestamp
// YYYYMMDDTHHMMSS[.ffffff][Z], or a comma list of these (the replay starts
// at the earliest position after all of the list's bookmarks, skipping per
// publisher what each listed bookmark covers).
func (l *Log) Resolve(spec string) (Start, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return Start{}, fmt.Errorf("empty bookmark: %w", ErrInvalidBookmark)
	}
	st := Start{Seq: ^uint64(0)}
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		seq, found, pub, bmSeq, err := l.resolveOne(part)
		if err != nil {
			return Start{}, err
		}
		if !found {
			continue
		}
		st.Found = true
		if seq < st.Seq {
			st.Seq = seq
		}
		if pub != 0 {
			if st.Floors == nil {
				st.Floors = map[uint64]uint64{}
			}
			if bmSeq > st.Floors[pub] {
				st.Floors[pub] = bmSeq
			}
		}
	}
	if !st.Found {
		return Start{Seq: l.NextSeq()}, nil
	}
	return st, nil
}

// resolveOne resolves one element; pub and bmSeq are set for a message
// bookmark found in the journal.
func (l *Log) resolveOne(s string) (seq uint64, found bool, pub, bmSeq uint64, err error) {
	switch {
	case s == Epoch:
		return l.FirstSeq(), true, 0, 0, nil
	case s == Now:
		return l.NextSeq(), true, 0, 0, nil
	case strings.HasSuffix(s, "|"):
		p, q, err := ParseBookmark(s)
		if err != nil {
			return 0, false, 0, 0, err
		}
		rec, ok, err := l.Get(q)
		if err != nil {
			return 0, false, 0, 0, err
		}
		if !ok || rec.Publisher != p {
			return 0, false, 0, 0, nil
		}
		return q + 1, true, p, q, nil
	default:
		t, err := ParseTimestamp(s)
		if err != nil {
			return 0, false, 0, 0, err
		}
		seq, err := l.seekTime(t.UnixMicro())
		return seq, err == nil, 0, 0, err
	}
}

// ParseBookmark parses "<publisher>|<seq>|" with a non-zero publisher.
func ParseBookmark(s string) (publisher, seq uint64, err error) {
	rest, ok := strings.CutSuffix(s, "|")
	if ok {
		var p, q string
		if p, q, ok = strings.Cut(rest, "|"); ok {
			var e1, e2 error
			publisher, e1 = strconv.ParseUint(p, 10, 64)
			seq, e2 = strconv.ParseUint(q, 10, 64)
			ok = e1 == nil && e2 == nil && publisher != 0
		}
	}
	if !ok {
		return 0, 0, fmt.Errorf("bookmark %q: %w", s, ErrInvalidBookmark)
	}
	return publisher, seq, nil
}

// ParseTimestamp parses an ISO-8601 basic UTC timestamp
// YYYYMMDDTHHMMSS[.ffffff][Z].
func ParseTimestamp(s string) (time.Time, error) {
	v := strings.TrimSuffix(s, "Z")
	if len(v) < 15 || len(v) > 22 || v[8] != 'T' || (len(v) > 15 && v[15] != '.') || len(v) == 16 {
		return time.Time{}, fmt.Errorf("bookmark %q: %w", s, ErrInvalidBookmark)
	}
	layout := "20060102T150405"
	if len(v) > 15 {
		layout += "." + strings.Repeat("0", len(v)-16)
	}
	t, err := time.ParseInLocation(layout, v, time.UTC)
	if err != nil {
		return time.Time{}, fmt.Errorf("bookmark %q: %w", s, ErrInvalidBookmark)
	}
	return t, nil
}

// seekTime returns the sequence number of the first record stamped at or
// after ts (NextSeq when there is none).
func (l *Log) seekTime(ts int64) (uint64, error) {
	i := l.firstSegmentAfter(ts)
	sg, _, ok := l.segmentInfo(i)
	if !ok {
		return l.NextSeq(), nil
	}
	r := l.NewReader(sg.first)
	defer r.Close()
	for {
		rec, err := r.Next(^uint64(0))
		if errors.Is(err, io.EOF) {
			return r.NextSeq(), nil
		}
		if err != nil {
			return 0, err
		}
		if rec.Timestamp >= ts {
			return rec.Seq, nil
		}
	}
}
