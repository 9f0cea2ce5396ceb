package ampserver

import (
	"hash/fnv"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"ampsflume/amps/wire"
	"ampsflume/ampserver/options"
	"ampsflume/filter"
)

// RecordChange describes one change to a SOW record. Old is nil for an
// insert and New is nil for a delete. Observers see changes of a topic in
// the order they happened, before any subscriber receives the publish that
// caused them.
type RecordChange struct {
	Topic     string
	SowKey    string
	Timestamp string
	Old, New  []byte
	// Expired is set when Old left the SOW because its lifetime ended
	// (expiration.go) rather than by a sow_delete.
	Expired bool
}

// Delivery is one message on its way to one subscription.
type Delivery struct {
	Topic         string
	SowKey        string
	Timestamp     string
	CorrelationID string
	Data          []byte
	// Prev is the record's previous SOW version (nil for an insert or a
	// topic without SOW), for delta subscriptions.
	Prev []byte
	// Bookmark is set for topics in the transaction log (txlog.go).
	Bookmark string
	seq      uint64 // journal position; 0 when not journaled
	at       int64  // publish time in Unix microseconds (0: unknown), journaled with it
}

// topic is a named topic. Its mutex orders publishes to the topic and makes
// a SOW snapshot and a subscription registration one atomic step.
type topic struct {
	name string
	mu   sync.Mutex
	sow  *sowStore   // nil for a topic without a SOW
	keys []evaluator // SOW key paths; empty: publishers supply k
	cfg  *SOWTopicConfig
	ext  topicExt // view, preprocessing, enrichment (view.go, enrich.go)

	msgsIn  atomic.Uint64
	msgsOut atomic.Uint64

	enc     deliveryEnc // under mu: the header of the publish being fanned out
	stamp   stampCache  // under mu: publish timestamps
	wall    wallClock   // under mu: the time of publishes, with the real clock
	route   *route      // under mu: the subscriptions of the topic (route.go)
	matched []int32     // under mu: the route positions a publish matched
}

// sowKey computes the SowKey of a payload: a 64-bit FNV-1a hash over the
// topic name and the key values, printed in decimal. A missing key field
// hashes as NULL, so every message without it shares one record (AMPS does
// not document this case; keying on NULL follows from its key definition).
func (t *topic) sowKey(data []byte) string {
	h := fnv.New64a()
	h.Write([]byte(t.name))
	var buf []byte
	for _, k := range t.keys {
		v := k.Eval(data)
		buf = append(buf[:0], 0x1f, byte(v.Kind))
		switch v.Kind {
		case filter.Number:
			buf = strconv.AppendFloat(buf, v.Num, 'g', -1, 64)
		case filter.String:
			buf = append(buf, v.Str...)
		case filter.Bool:
			buf = strconv.AppendBool(buf, v.Bool)
		}
		h.Write(buf)
	}
	return strconv.FormatUint(h.Sum64(), 10)
}

// subscription is one subscribe or sow_and_subscribe of a client.
type subscription struct {
	id     string
	client *client
	topic  string         // literal topic, when re is nil
	re     *regexp.Regexp // regex topic
	filter matcher        // nil: everything
	eq     *eqFilter      // filter's fast form when it is `/path = 'literal'` (deliver.go)
	idPart []byte         // encoded sub_id and sids of its deliveries (deliver.go)
	opts   *options.Options
	cmd    string
	delta  bool
	ext    *subExt // aggregation, deltas, conflation, oof (subext.go); nil: none
	replay *replay // bookmark subscription (replay.go); nil: none
}

func (s *subscription) matchesTopic(name string) bool {
	if s.re != nil {
		return s.re.MatchString(name)
	}
	return s.topic == name
}

// deliver sends one message to the subscriber. Every live message of a
// subscription goes through here, so that per-subscription processing
// (conflation, aggregation, deltas) has a single place to hook in.
func (s *subscription) deliver(d *Delivery) {
	if s.replay != nil && s.replay.intercept(d) {
		return
	}
	if s.ext != nil && s.ext.intercept(s, d) {
		return
	}
	s.send(d)
}

// send writes one delivery to the subscriber.
func (s *subscription) send(d *Delivery) {
	s.client.sendDelivery(d, s.idPart)
}

func (srv *Server) deliveryHeader(s *subscription, d *Delivery) wire.Header {
	return wire.Header{
		Command:       "p",
		Topic:         d.Topic,
		SubID:         s.id,
		SubIDs:        s.id,
		SowKey:        d.SowKey,
		Timestamp:     d.Timestamp,
		CorrelationID: d.CorrelationID,
		Bookmark:      d.Bookmark,
	}
}

// isRegexTopic tells whether a topic given to a subscription or query is a
// regular expression rather than a literal name.
func isRegexTopic(t string) bool {
	return strings.ContainsAny(t, `^$*+?()[]{}|\`)
}

// subList is an immutable list of subscriptions, replaced on every change so
// that publishers read it without locking.
type subList struct {
	subs []*subscription
}
