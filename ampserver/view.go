package ampserver

import (
	"fmt"

	"ampsflume/ampserver/aggregate"
	"ampsflume/filter"
)

// Views (<View>, or <ViewDefinition>, in <SOW>): a view is a SOW topic whose
// records are an aggregation of another SOW topic (its UnderlyingTopic, which
// may itself be a view), grouped by the Grouping fields, one record per
// group, projected by the Projection fields (package aggregate). Clients
// query and subscribe to it like any SOW topic — filters, oof, delta
// subscriptions, conflation, aggregated subscriptions over the view — but
// cannot publish to it or delete from it (failure reason "invalid topic").
//
// Maintenance is synchronous and incremental: every record change of the
// underlying topic is folded into the view under the underlying topic's
// lock, so the view has caught up by the time the publish is acknowledged,
// and the view's own record changes are reported, in order, to the server's
// observers and to the views built on it. Lock order: a view's topic lock is
// always taken after its underlying topic's (sowTopics sorts views after the
// topics they depend on), which keeps multi-topic queries deadlock free.
//
// A view record's SowKey is a hash of the KeyDomain (default: the view's
// name) and the group. Views are not persisted: they are rebuilt from the
// underlying SOW (itself brought up to date from the transaction log) when
// the server starts; fields that are neither grouped nor aggregated then
// take their value from the records in SOW insertion order. View messages
// are not journaled, as in AMPS.
type view struct {
	cfg       *ViewConfig
	t         *topic // the view's own topic
	under     *topic
	agg       *aggregate.View
	keyDomain string
	rank      int // 1 + the underlying topic's rank
}

// topicExt holds what a SOW topic may have beyond its records: the view it
// is, and its preprocessing and enrichment.
type topicExt struct {
	view     *view
	pre, enr *processor
}

// topicRank orders topics for locking: plain topics first, then views by
// depth.
func topicRank(t *topic) int {
	if t.ext.view == nil {
		return 0
	}
	return t.ext.view.rank
}

// topicBefore is the lock order of topics: by rank, then by name.
func topicBefore(a, b *topic) bool {
	if ra, rb := topicRank(a), topicRank(b); ra != rb {
		return ra < rb
	}
	return a.name < b.name
}

// compileView compiles a view's aggregation. Expressions must be
// deterministic, since the view is recomputed from old records.
func compileView(vc *ViewConfig) (*aggregate.View, error) {
	cfg := aggregate.Config{
		Projection: vc.Projection,
		Grouping:   vc.Grouping,
		Compile: func(expr string) (aggregate.Evaluator, error) {
			e, err := filter.CompileExpr(expr)
			if err != nil {
				return nil, err
			}
			if !e.Deterministic() {
				return nil, fmt.Errorf("%q is not deterministic", expr)
			}
			return e, nil
		},
	}
	if vc.Filter != "" {
		f, err := filter.Compile(vc.Filter)
		if err != nil {
			return nil, fmt.Errorf("Filter: %w", err)
		}
		if !f.Deterministic() {
			return nil, fmt.Errorf("Filter %q is not deterministic", vc.Filter)
		}
		cfg.Filter = f.Match
	}
	return aggregate.New(cfg)
}

// initViews creates the view topics and builds each view from its
// underlying topic's current records. It runs in New, after the SOW topics
// were opened and brought up to date from the transaction log.
func (s *Server) initViews() error {
	pending := make([]*ViewConfig, 0, len(s.cfg.Views))
	for i := range s.cfg.Views {
		pending = append(pending, &s.cfg.Views[i])
	}
	// Build in dependency order: a view over a view waits for it.
	for len(pending) > 0 {
		progress := false
		rest := pending[:0]
		for _, vc := range pending {
			under := s.topics[vc.UnderlyingTopic]
			if under == nil || under.sow == nil {
				if s.viewConfigured(vc.UnderlyingTopic) {
					rest = append(rest, vc)
					continue
				}
				return fmt.Errorf("view %q: UnderlyingTopic %q is not a SOW topic or view", vc.Name, vc.UnderlyingTopic)
			}
			if err := s.addView(vc, under); err != nil {
				return err
			}
			progress = true
		}
		pending = rest
		if !progress {
			return fmt.Errorf("view %q: views depend on each other in a cycle", pending[0].Name)
		}
	}
	return nil
}

func (s *Server) viewConfigured(name string) bool {
	for i := range s.cfg.Views {
		if s.cfg.Views[i].Name == name {
			return true
		}
	}
	return false
}

func (s *Server) addView(vc *ViewConfig, under *topic) error {
	if s.topics[vc.Name] != nil {
		return fmt.Errorf("view %q: the name is already a SOW topic or view", vc.Name)
	}
	agg, err := compileView(vc)
	if err != nil {
		return fmt.Errorf("view %q: %w", vc.Name, err)
	}
	v := &view{cfg: vc, under: under, agg: agg, keyDomain: vc.KeyDomain, rank: topicRank(under) + 1}
	if v.keyDomain == "" {
		v.keyDomain = vc.Name
	}
	// The view's key fields are its projected grouping fields: what delta
	// subscribers receive with every delta.
	sc := &SOWTopicConfig{Name: vc.Name, MessageType: "json", Keys: agg.KeyFields(), Durability: "transient"}
	t := &topic{name: vc.Name, cfg: sc, sow: newMemStore()}
	t.ext.view = v
	v.t = t
	recs := make([]*record, 0, len(under.sow.records))
	for _, r := range under.sow.records {
		recs = append(recs, r)
	}
	sortBySeq(recs)
	for _, r := range recs {
		agg.Add(r.data)
	}
	ts := timestamp(s.clock.Now())
	for _, o := range agg.Snapshot() {
		if _, _, err := t.sow.put(groupSowKey(v.keyDomain, o.Key), ts, o.Data); err != nil {
			return fmt.Errorf("view %q: %w", vc.Name, err)
		}
	}
	s.topics[vc.Name] = t
	if s.viewsOf == nil {
		s.viewsOf = map[string][]*view{}
	}
	s.viewsOf[under.name] = append(s.viewsOf[under.name], v)
	return nil
}

// updateViews folds a record change of a topic into the views built on it.
// The caller holds the topic's lock.
func (s *Server) updateViews(rc RecordChange) {
	for _, v := range s.viewsOf[rc.Topic] {
		v.apply(s, rc)
	}
}

// apply updates the view for one change of its underlying topic and
// delivers the changed view records.
func (v *view) apply(s *Server, rc RecordChange) {
	t := v.t
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, o := range v.agg.Apply(rc.Old, rc.New) {
		key := groupSowKey(v.keyDomain, o.Key)
		if o.Removed {
			// The in-memory store cannot fail.
			if old, _ := t.sow.del(key); old != nil {
				s.notify(RecordChange{Topic: t.name, SowKey: key, Timestamp: rc.Timestamp, Old: old.data})
			}
			continue
		}
		old, _, _ := t.sow.put(key, rc.Timestamp, o.Data)
		var prev []byte
		if old != nil {
			prev = old.data
		}
		s.notify(RecordChange{Topic: t.name, SowKey: key, Timestamp: rc.Timestamp, Old: prev, New: o.Data})
		d := Delivery{Topic: t.name, SowKey: key, Timestamp: rc.Timestamp, Data: o.Data, Prev: prev}
		t.msgsIn.Add(1)
		for _, sub := range s.subs.Load().subs {
			if !sub.matchesTopic(t.name) || (sub.filter != nil && !sub.filter.Match(o.Data)) {
				continue
			}
			t.msgsOut.Add(1)
			sub.deliver(&d)
		}
	}
}

// isView tells whether t is a view (read-only to publishers).
func (t *topic) isView() bool { return t.ext.view != nil }

// withoutViews drops the views from topics: records of a view cannot be
// deleted directly.
func withoutViews(ts []*topic) []*topic {
	out := ts[:0:0]
	for _, t := range ts {
		if !t.isView() {
			out = append(out, t)
		}
	}
	return out
}
