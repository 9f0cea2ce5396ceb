package ampserver

import (
	"fmt"
	"sort"
	"strings"

	"ampsflume/ampserver/txlog"
)

// topicFirst is the journal position of a publisher's first message to one
// topic here.
type topicFirst struct {
	topic string
	seq   uint64
}

// noteFirst keeps, per publisher and topic, the lowest journal position of a
// message; rp.mu is held. A publisher uses few topics, so a slice searched
// linearly is enough.
func (rp *replicator) noteFirst(rec *txlog.Record) {
	fs := rp.firsts[rec.Publisher]
	for i := range fs {
		if fs[i].topic == rec.Topic {
			fs[i].seq = min(fs[i].seq, rec.Seq)
			return
		}
	}
	// The record's topic may be carved from a buffer that is reused.
	rp.firsts[rec.Publisher] = append(fs, topicFirst{topic: strings.Clone(rec.Topic), seq: rec.Seq})
}

// resolveBookmark is where a bookmark subscription starts. matches, when
// given, tells which topics the subscription covers (without it, every
// topic counts, which only makes a replay start earlier than it needs to).
//
// Replicating, a message bookmark names a publisher and that publisher's own
// sequence number, which mean the same on every instance, while journal
// positions and the interleaving of publishers differ between instances. So
// a list is resolved per publisher:
//
//   - A listed publisher resumes at its first message here after the
//     bookmark (so a bookmark this instance never saw, because the publisher
//     failed over before its peer had it, still resumes at the right place);
//     its messages at or below the bookmark are skipped (Floors).
//   - A publisher absent from the list is replayed from its first message
//     here on a topic the subscription covers: the list says nothing about
//     which of its messages the subscriber has, and the instance the list
//     was built on may have journaled them in another order than this one,
//     before or after any listed message. The ones the subscriber already
//     received are duplicates its bookmark store drops (it drops, per
//     publisher, every sequence number up to the highest it received).
//   - A list that also holds an explicit start (EPOCH, NOW or a timestamp)
//     takes that start for the publishers absent from it instead, as a
//     single instance does.
//
// The list counts as found when a listed publisher or a publisher replayed
// from its first message has messages here; otherwise bookmark_not_found
// decides, as for a single instance.
func (s *Server) resolveBookmark(spec string, matches ...func(topic string) bool) (txlog.Start, error) {
	l := s.jr.log
	rp := s.repl
	if rp == nil {
		return l.Resolve(spec)
	}
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return txlog.Start{}, fmt.Errorf("empty bookmark: %w", txlog.ErrInvalidBookmark)
	}
	st := txlog.Start{Seq: ^uint64(0)}
	explicit := false
	var listed map[uint64]bool
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		pub, q, err := txlog.ParseBookmark(part)
		if err != nil || part == txlog.Now {
			explicit = true
			one, err := l.Resolve(part)
			if err != nil {
				return txlog.Start{}, err
			}
			if one.Found {
				st.Found = true
				st.Seq = min(st.Seq, one.Seq)
			}
			continue
		}
		if listed == nil {
			listed = map[uint64]bool{}
		}
		listed[pub] = true
		start, floor, known := rp.resumeOf(pub, q)
		if !known {
			continue
		}
		if start == 0 {
			start = l.NextSeq()
		}
		st.Found = true
		st.Seq = min(st.Seq, start)
		if floor > 0 {
			if st.Floors == nil {
				st.Floors = map[uint64]uint64{}
			}
			st.Floors[pub] = max(st.Floors[pub], floor)
		}
	}
	if !explicit {
		covers := func(string) bool { return true }
		if len(matches) > 0 {
			covers = matches[0]
		}
		if first, ok := rp.firstUnlisted(listed, covers); ok {
			st.Found = true
			st.Seq = min(st.Seq, first)
		}
	}
	if !st.Found {
		return txlog.Start{Seq: l.NextSeq()}, nil
	}
	return st, nil
}

// resumeOf locates publisher pub's bookmark q here: start is the journal
// position of its first message after q (0: none yet), floor that of its
// last message at or below q (0: none); known is false when this instance
// has no message of pub.
func (rp *replicator) resumeOf(pub, q uint64) (start, floor uint64, known bool) {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	ents := rp.idx[pub]
	i := sort.Search(len(ents), func(i int) bool { return ents[i].cseq > q })
	if i < len(ents) {
		start = ents[i].seq
	}
	if i > 0 {
		floor = ents[i-1].seq
	}
	return start, floor, len(ents) > 0
}

// firstUnlisted is the lowest journal position of a message of a publisher
// not in listed, on a topic matches accepts; ok is false when there is none.
func (rp *replicator) firstUnlisted(listed map[uint64]bool, matches func(string) bool) (first uint64, ok bool) {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	first = ^uint64(0)
	for pub, fs := range rp.firsts {
		if listed[pub] {
			continue
		}
		for _, f := range fs {
			if f.seq < first && matches(f.topic) {
				first, ok = f.seq, true
			}
		}
	}
	return first, ok
}
