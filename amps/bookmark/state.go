package bookmark

import "sort"

// entry is one received message of a subscription.
type entry struct {
	bm        Bookmark
	discarded bool
	// recovered marks an entry loaded from a log but not yet redelivered in
	// this process: its redelivery is expected and is not a duplicate.
	recovered bool
}

// publisher is what a subscription knows about one publisher.
type publisher struct {
	high    uint64 // highest sequence logged; valid when hasHigh
	hasHigh bool
	// queue holds, in sequence order, the entries from the first one not yet
	// discarded onwards.
	queue   []*entry
	last    uint64 // last contiguously discarded sequence; valid when hasLast
	hasLast bool
	persist uint64 // highest persisted sequence; valid when hasPersist
	// hasPersist is false until the server acknowledges a persist.
	hasPersist bool
}

func (p *publisher) find(seq uint64) *entry {
	i := sort.Search(len(p.queue), func(i int) bool { return p.queue[i].bm.Seq >= seq })
	if i < len(p.queue) && p.queue[i].bm.Seq == seq {
		return p.queue[i]
	}
	return nil
}

// subscription is the state of one subscription id.
type subscription struct {
	pubs map[uint64]*publisher
	// order holds, in arrival order, the entries from the first one not yet
	// discarded onwards. Arrival order is the server's log order, so the
	// entry just before the head is a safe single resume point.
	order  []*entry
	recent Bookmark // last entry popped from order; valid when hasRecent
	// hasRecent is false until some prefix of the arrivals is discarded.
	hasRecent bool
	// rng is the subscription's bookmark range, nil for a plain bookmark.
	rng *Range
}

func newSubscription() *subscription { return &subscription{pubs: map[uint64]*publisher{}} }

func (s *subscription) pub(id uint64) *publisher {
	p := s.pubs[id]
	if p == nil {
		p = &publisher{}
		s.pubs[id] = p
	}
	return p
}

// log records a received bookmark and reports whether the state changed.
func (s *subscription) log(bm Bookmark) bool {
	p := s.pub(bm.Publisher)
	if p.hasHigh && bm.Seq <= p.high {
		if e := p.find(bm.Seq); e != nil {
			e.recovered = false
		}
		return false
	}
	p.high, p.hasHigh = bm.Seq, true
	e := &entry{bm: bm}
	p.queue = append(p.queue, e)
	s.order = append(s.order, e)
	return true
}

// discard marks a bookmark discarded and reports whether the state changed.
func (s *subscription) discard(bm Bookmark) bool {
	p := s.pubs[bm.Publisher]
	if p == nil {
		return false
	}
	e := p.find(bm.Seq)
	if e == nil || e.discarded {
		return false
	}
	e.discarded = true
	e.recovered = false
	for len(p.queue) > 0 && p.queue[0].discarded {
		p.last, p.hasLast = p.queue[0].bm.Seq, true
		p.queue[0] = nil
		p.queue = p.queue[1:]
	}
	for len(s.order) > 0 && s.order[0].discarded {
		s.recent, s.hasRecent = s.order[0].bm, true
		s.order[0] = nil
		s.order = s.order[1:]
	}
	return true
}

func (s *subscription) isDiscarded(bm Bookmark) bool {
	p := s.pubs[bm.Publisher]
	if p == nil || !p.hasHigh || bm.Seq > p.high {
		return false
	}
	if e := p.find(bm.Seq); e != nil && e.recovered {
		return false
	}
	return true
}

func (s *subscription) persisted(bm Bookmark) bool {
	p := s.pub(bm.Publisher)
	if p.hasPersist && bm.Seq <= p.persist {
		return false
	}
	p.persist, p.hasPersist = bm.Seq, true
	return true
}

// setRange records the subscription's range and reports whether the state
// changed. A different range is a different subscription: what was
// received for the old one says nothing about the new one, so the state
// starts afresh.
func (s *subscription) setRange(r Range) bool {
	if s.rng != nil && s.rng.String() == r.String() {
		return false
	}
	*s = subscription{pubs: map[uint64]*publisher{}, rng: &r}
	return true
}

// mostRecent computes the resume point; see the package documentation.
func (s *subscription) mostRecent() string {
	at := s.resumePoints()
	if s.rng != nil {
		return s.rng.resume(at).String()
	}
	return Join(at)
}

// resumePoints is the resume point as one bookmark per publisher, none
// when nothing has been discarded yet.
func (s *subscription) resumePoints() []Bookmark {
	at := map[uint64]uint64{}
	for id, p := range s.pubs {
		if p.hasLast {
			at[id] = p.last
		}
	}
	if len(s.order) > 0 {
		// Some message is not discarded yet. Resuming from any publisher's
		// own point could start after it; the arrival-order prefix cannot.
		if !s.hasRecent {
			return nil
		}
		at[s.recent.Publisher] = s.recent.Seq
	}
	out := make([]Bookmark, 0, len(at))
	for id, seq := range at {
		if p := s.pubs[id]; p.hasPersist && p.persist < seq {
			// Never resume past what the server has persisted: a failover
			// peer may not know a later bookmark and would start at NOW.
			seq = p.persist
		}
		out = append(out, Bookmark{Publisher: id, Seq: seq})
	}
	return out
}

// markRecovered flags every entry not yet discarded as awaiting redelivery.
func (s *subscription) markRecovered() {
	for _, e := range s.order {
		if !e.discarded {
			e.recovered = true
		}
	}
}

// Record kinds, as written to a LoggedStore file.
const (
	kindReceived  byte = 'b'
	kindDiscarded byte = 'd'
	kindPersisted byte = 'p'
	kindRange     byte = 'r'
)

// compact emits the shortest record sequence that, replayed into an empty
// subscription, rebuilds the same answers: resume point, duplicate detection
// and the entries still awaited. The range comes first: replaying it
// resets the subscription.
func (s *subscription) compact(emit func(kind byte, bm Bookmark), emitRange func(Range)) {
	if s.rng != nil {
		emitRange(*s.rng)
	}
	inOrder := make(map[Bookmark]bool, len(s.order))
	for _, e := range s.order {
		inOrder[e.bm] = true
	}
	ids := make([]uint64, 0, len(s.pubs))
	for id := range s.pubs {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	// Publishers' own resume points that arrived before the arrival-order
	// resume point come first, then that point, then the open window.
	for _, id := range ids {
		p := s.pubs[id]
		if !p.hasLast {
			continue
		}
		bm := Bookmark{Publisher: id, Seq: p.last}
		if inOrder[bm] || (s.hasRecent && s.recent == bm) {
			continue
		}
		emit(kindReceived, bm)
		emit(kindDiscarded, bm)
	}
	if s.hasRecent {
		emit(kindReceived, s.recent)
		emit(kindDiscarded, s.recent)
	}
	for _, e := range s.order {
		emit(kindReceived, e.bm)
		if e.discarded {
			emit(kindDiscarded, e.bm)
		}
	}
	for _, id := range ids {
		if p := s.pubs[id]; p.hasPersist {
			emit(kindPersisted, Bookmark{Publisher: id, Seq: p.persist})
		}
	}
}

// apply replays one record.
func (s *subscription) apply(kind byte, bm Bookmark) {
	switch kind {
	case kindReceived:
		s.log(bm)
	case kindDiscarded:
		s.discard(bm)
	case kindPersisted:
		s.persisted(bm)
	}
}
