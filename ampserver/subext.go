package ampserver

import (
	"hash/fnv"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"ampsflume/amps/wire"
	"ampsflume/ampserver/aggregate"
	"ampsflume/ampserver/conflate"
	"ampsflume/ampserver/delta"
	"ampsflume/ampserver/options"
)

// subExt is the per-subscription processing between a topic and the
// subscriber: aggregation, delta computation, conflation, out-of-focus
// notifications and header options. A subscription without any of these
// has no subExt and takes the direct path.
//
// Concurrency: record changes and live deliveries reach a subExt under the
// topic lock, in publish order; conflated deliveries come from the
// conflation timer. The view is only touched under the topic lock; mu
// guards the maps that both paths use.
type subExt struct {
	srv  *Server
	opts *options.Options

	view *aggregate.View // aggregated subscription; nil otherwise

	conf     *conflate.Conflater[pending]
	confKeys []evaluator // conflation_key paths when they differ from the SOW key

	deltaKeys []string // key paths sent with every delta (literal topic)

	// track keeps, per record key, the full record the subscriber last
	// received: the body of an oof under conflation.
	track bool

	mu       sync.Mutex
	lastSent map[string][]byte
	prevOut  map[string][]byte // aggregated deltas: last record produced per group
}

// pending is a delivery on its way, with the full record it represents
// (Data may be a delta).
type pending struct {
	d    Delivery
	full []byte
	key  string
}

// conflationSlackDivisor sets conflation's tolerance to a twentieth of the
// interval (50 ms at 1 s): an update arriving that close before its key
// falls due counts as arriving when it is due (see conflate.Config.Slack).
// Without it, updates paced at exactly the interval, as in the article's
// example, are conflated in pairs or not depending on sub-millisecond
// scheduling.
const conflationSlackDivisor = 20

// conflationClock adapts the server clock to the conflate package.
type conflationClock struct{ c Clock }

func (a conflationClock) Now() time.Time { return a.c.Now() }
func (a conflationClock) AfterFunc(d time.Duration, f func()) conflate.Timer {
	return a.c.AfterFunc(d, f)
}

// autoConflationInterval is the interval used for conflation=auto, which
// AMPS derives from the subscriber's pace; a fixed short interval keeps the
// at-most-one-update-per-key guarantee.
const autoConflationInterval = 100 * time.Millisecond

// maxProjection is the largest projection AMPS accepts.
const maxProjection = 64 * 1024

// prepareExt validates the options that need server-side processing and
// attaches a subExt to sub when any is requested. It returns the AMPS
// failure reason, or "".
func (c *client) prepareExt(sub *subscription, h *wire.Header) string {
	o := sub.opts
	if o == nil {
		return ""
	}
	conflated := o.Conflation.Mode != options.ConflationNone
	if !o.Aggregated() && !conflated && !o.OOF && !sub.delta && !o.NoSowKey {
		return ""
	}
	s := c.srv
	x := &subExt{srv: s, opts: o}
	var sowTopic *topic
	if sub.re == nil {
		if ts := s.resolveSOW(sub.topic, nil); len(ts) == 1 {
			sowTopic = ts[0]
		}
	}
	if o.Aggregated() {
		switch {
		case h.Command == "subscribe" || h.Command == "delta_subscribe":
			return options.Reason // aggregation needs the SOW query part
		case o.Replace:
			// AMPS allows replace on an aggregated subscription only to
			// change pagination; the view is rebuilt per subscription here,
			// so refuse rather than silently rebuild it.
			return options.Reason
		case sub.re != nil:
			return "regex topic not supported"
		case h.Bookmark != "":
			return options.Reason
		case sowTopic == nil:
			return "invalid topic"
		}
		size := 0
		for _, p := range o.Projection {
			size += len(p) + 1
		}
		if size > maxProjection {
			return "projection clause too large"
		}
		cfg := aggregate.Config{Projection: o.Projection, Grouping: o.Grouping}
		if sub.filter != nil {
			cfg.Filter = sub.filter.Match
		}
		v, err := aggregate.New(cfg)
		if err != nil {
			s.log.Debug("aggregated subscription refused", append(c.logAttrs(), "err", err)...)
			return options.Reason
		}
		x.view = v
		x.deltaKeys = v.KeyFields()
		x.prevOut = map[string][]byte{}
	} else if sowTopic != nil && sowTopic.cfg != nil {
		x.deltaKeys = append([]string(nil), sowTopic.cfg.Keys...)
	}
	if conflated {
		if o.ConflationKey != nil && !o.Aggregated() {
			same := sowTopic != nil && sowTopic.cfg != nil && sameKeys(o.ConflationKey, sowTopic.cfg.Keys)
			if !same {
				if o.OOF {
					return options.Reason // AMPS: conflation_key with oof must be the topic key
				}
				for _, k := range o.ConflationKey {
					e, err := compileExpr(k)
					if err != nil {
						return options.Reason
					}
					x.confKeys = append(x.confKeys, e)
				}
			}
		} else if sowTopic == nil && !o.Aggregated() && sub.re == nil {
			return options.Reason // a non-SOW topic has no default key
		}
		interval := o.Conflation.Interval
		if o.Conflation.Mode == options.ConflationAuto {
			interval = autoConflationInterval
		}
		x.conf = conflate.New(conflate.Config[pending]{
			Interval: interval,
			Slack:    interval / conflationSlackDivisor,
			Clock:    conflationClock{s.clock},
			Deliver:  func(it conflate.Item[pending]) { x.send(sub, it.Value) },
			Merge:    x.mergePending(sub.delta),
		})
		x.track = o.OOF
		x.lastSent = map[string][]byte{}
	}
	sub.ext = x
	return ""
}

func sameKeys(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if strings.TrimSpace(a[i]) != strings.TrimSpace(b[i]) {
			return false
		}
	}
	return true
}

// mergePending combines a held update with a newer one: the newer replaces
// it, keeping the first update's timestamp and bookmark (AMPS reports those
// of the first conflated message, so a client resuming from the bookmark
// misses nothing); deltas merge into the held message.
func (x *subExt) mergePending(isDelta bool) func(held, next pending) pending {
	return func(held, next pending) pending {
		next.d.Timestamp = held.d.Timestamp
		next.d.Bookmark = held.d.Bookmark
		if isDelta {
			if m, err := delta.Merge(held.d.Data, next.d.Data); err == nil {
				next.d.Data = m
			}
		}
		return next
	}
}

// stop releases the subscription's timers; called when it is removed.
func (x *subExt) stop() {
	if x.conf != nil {
		x.conf.Close()
	}
}

// intercept handles a live delivery; it reports true when it took over.
func (x *subExt) intercept(sub *subscription, d *Delivery) bool {
	if x.view != nil {
		return true // aggregated: fed by record changes, not by publishes
	}
	key := recordKey(d.Topic, d.SowKey)
	if x.confKeys != nil {
		key = conflationKey(x.confKeys, d.Data)
	}
	inFocus := d.Prev != nil && (sub.filter == nil || sub.filter.Match(d.Prev))
	x.emit(sub, key, *d, d.Prev, inFocus, x.keysFor(d.Topic))
	return true
}

// keysFor returns the key paths sent with deltas for a topic.
func (x *subExt) keysFor(topicName string) []string {
	if x.deltaKeys != nil {
		return x.deltaKeys
	}
	for _, t := range x.srv.sowTopics() {
		if t.name == topicName && t.cfg != nil {
			return t.cfg.Keys
		}
	}
	return nil
}

// recordKey identifies a SOW record across the topics a regex
// subscription covers; "" for a message without SowKey.
func recordKey(topicName, sowKey string) string {
	if sowKey == "" {
		return ""
	}
	return topicName + "\x00" + sowKey
}

func conflationKey(keys []evaluator, data []byte) string {
	var b []byte
	for _, k := range keys {
		v := k.Eval(data)
		b = append(b, byte(v.Kind))
		b = append(b, v.Text()...)
		b = append(b, 0)
	}
	return string(b)
}

// emit turns a full record into what the subscriber receives (a delta for
// delta subscriptions when the subscriber holds the previous version) and
// sends it, through conflation when requested.
func (x *subExt) emit(sub *subscription, key string, d Delivery, prev []byte, prevInFocus bool, keys []string) {
	p := pending{d: d, full: d.Data, key: key}
	if sub.delta && prev != nil && prevInFocus {
		dd, changed, err := delta.Diff(prev, d.Data, keys)
		if err == nil {
			if !changed && x.opts.NoEmpties {
				return
			}
			p.d.Data = dd
		}
	}
	if x.conf != nil && key != "" {
		x.conf.Offer(key, p)
		return
	}
	// No key (a topic without SOW reached through a regex subscription):
	// nothing to conflate on.
	x.send(sub, p)
}

// send delivers one message now.
func (x *subExt) send(sub *subscription, p pending) {
	if x.track {
		x.mu.Lock()
		x.lastSent[p.key] = p.full
		x.mu.Unlock()
	}
	if x.opts.NoSowKey {
		p.d.SowKey = ""
	}
	sub.send(&p.d)
}

// seedQuery records what the query part of a sow_and_subscribe sent, so
// that later out-of-focus messages under conflation carry it.
func (x *subExt) seedQuery(res queryResult) {
	if !x.track {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, r := range res.records {
		x.lastSent[recordKey(r.topic, r.rec.key)] = r.rec.data
	}
}

// groupSowKey is the SowKey of an aggregated record: a hash of the topic
// and the group, like the SowKey of a view record.
func groupSowKey(topicName, group string) string {
	h := fnv.New64a()
	h.Write([]byte(topicName))
	h.Write([]byte{0})
	h.Write([]byte(group))
	return strconv.FormatUint(h.Sum64(), 10)
}

// queryFor runs the query part of a subscription whose topics' locks the
// caller holds: the view's records for an aggregated subscription, the
// SOW records otherwise.
func (s *Server) queryFor(sub *subscription, q *query, topics []*topic) queryResult {
	skip := 0
	if sub.opts != nil && sub.opts.HasSkipN {
		skip = sub.opts.SkipN
	}
	x := sub.ext
	if x == nil {
		return s.runQuery(q, topics, nil, skip)
	}
	if x.view == nil {
		res := s.runQuery(q, topics, nil, skip)
		x.seedQuery(res)
		return res
	}
	return s.aggregateQuery(x.view, q, topics, x)
}

// aggregateQuery feeds the topics' current records (in insertion order)
// into v and returns the groups as query results.
func (s *Server) aggregateQuery(v *aggregate.View, q *query, topics []*topic, x *subExt) queryResult {
	var res queryResult
	ts := timestamp(s.clock.Now())
	for _, t := range topics {
		res.topicMatches += len(t.sow.records)
		recs := make([]*record, 0, len(t.sow.records))
		for _, r := range t.sow.records {
			recs = append(recs, r)
		}
		sortBySeq(recs)
		for _, r := range recs {
			v.Add(r.data)
		}
		for i, o := range v.Snapshot() {
			key := groupSowKey(t.name, o.Key)
			res.records = append(res.records, resultRecord{topic: t.name, rec: &record{key: key, data: o.Data, ts: ts, seq: uint64(i)}})
			if x != nil {
				x.mu.Lock()
				x.prevOut[o.Key] = o.Data
				if x.track {
					x.lastSent[o.Key] = o.Data
				}
				x.mu.Unlock()
			}
		}
	}
	res.matches = len(res.records)
	if q.topN > 0 && len(res.records) > q.topN {
		res.records = res.records[:q.topN]
	}
	return res
}

func sortBySeq(recs []*record) {
	sort.Slice(recs, func(i, j int) bool { return recs[i].seq < recs[j].seq })
}

// applyView folds a record change into an aggregated subscription and
// emits the groups it changed.
func (x *subExt) applyView(sub *subscription, rc RecordChange) {
	for _, o := range x.view.Apply(rc.Old, rc.New) {
		key := groupSowKey(rc.Topic, o.Key)
		x.mu.Lock()
		prev := x.prevOut[o.Key]
		if o.Removed {
			delete(x.prevOut, o.Key)
		} else {
			x.prevOut[o.Key] = o.Data
		}
		x.mu.Unlock()
		if o.Removed {
			x.outOfFocus(sub, rc.Topic, o.Key, key, "deleted", o.Data)
			continue
		}
		d := Delivery{Topic: rc.Topic, SowKey: key, Timestamp: rc.Timestamp, Data: o.Data}
		x.emit(sub, o.Key, d, prev, prev != nil, x.deltaKeys)
	}
}

// checkFocus sends an oof when a record the subscriber holds leaves its
// filter (reason match, with the new state) or is deleted (reason deleted,
// with the previous state).
func (x *subExt) checkFocus(sub *subscription, rc RecordChange) {
	if rc.Old == nil || (sub.filter != nil && !sub.filter.Match(rc.Old)) {
		return
	}
	if rc.New != nil && (sub.filter == nil || sub.filter.Match(rc.New)) {
		return
	}
	key := recordKey(rc.Topic, rc.SowKey)
	if rc.New == nil {
		reason := "deleted"
		if rc.Expired {
			reason = "expired"
		}
		x.outOfFocus(sub, rc.Topic, key, rc.SowKey, reason, rc.Old)
		return
	}
	x.outOfFocus(sub, rc.Topic, key, rc.SowKey, "match", rc.New)
}

// outOfFocus drops anything held for the record and, when the subscriber
// asked for oof, tells it the record is gone. Under conflation the body is
// the last state the subscriber received, and nothing is sent for a
// record it never received.
func (x *subExt) outOfFocus(sub *subscription, topicName, key, sowKey, reason string, body []byte) {
	if x.conf != nil {
		x.conf.Drop(key)
		x.mu.Lock()
		last, ok := x.lastSent[key]
		delete(x.lastSent, key)
		x.mu.Unlock()
		if !ok {
			return
		}
		body = last
	}
	if !x.opts.OOF {
		return
	}
	h := wire.Header{Command: "oof", Topic: topicName, SubID: sub.id, SubIDs: sub.id, SowKey: sowKey, Reason: reason}
	sub.client.sendFrame(&h, body)
}

// extRecordChange is called for every SOW record change, under the topic
// lock and before the publish that caused it is delivered.
func (s *Server) extRecordChange(rc RecordChange) {
	for _, sub := range s.subs.Load().subs {
		x := sub.ext
		if x == nil || !sub.matchesTopic(rc.Topic) {
			continue
		}
		if x.view != nil {
			x.applyView(sub, rc)
			continue
		}
		if x.opts.OOF {
			x.checkFocus(sub, rc)
		}
	}
}
