package ampserver

import (
	"regexp"
	"sort"
	"strings"

	"ampsflume/amps/wire"
	"ampsflume/filter"
)

// query is a parsed SOW query.
type query struct {
	topic  string
	re     *regexp.Regexp
	filter matcher
	keys   map[string]bool // sow_keys restriction; nil: all
	order  []orderKey
	topN   int // 0: unlimited
	bs     int
}

type orderKey struct {
	expr evaluator
	desc bool
}

// queryResult is what a query selected from a set of topics.
type queryResult struct {
	records      []resultRecord
	matches      int
	topicMatches int
}

type resultRecord struct {
	topic   string
	rec     *record
	expires int64 // Unix nanoseconds; 0: the record does not expire
}

// parseQuery validates the query part of sow, sow_and_subscribe and
// sow_delete-by-filter; it returns the AMPS reason on failure.
func parseQuery(h *wire.Header, orderBy string, topN int) (*query, string) {
	q := &query{topic: h.Topic, bs: h.BatchSize, topN: topN}
	if q.bs <= 0 {
		q.bs = 1
	}
	if h.Topic == "" {
		return nil, "invalid topic"
	}
	if isRegexTopic(h.Topic) {
		re, err := regexp.Compile(h.Topic)
		if err != nil {
			return nil, "bad regex topic"
		}
		q.re = re
	}
	if h.Filter != "" {
		m, err := compileFilter(h.Filter)
		if err != nil {
			return nil, "bad filter"
		}
		q.filter = m
	}
	if h.SowKeys != "" {
		q.keys = map[string]bool{}
		for _, k := range strings.Split(h.SowKeys, ",") {
			if k = strings.TrimSpace(k); k != "" {
				q.keys[k] = true
			}
		}
	}
	if orderBy != "" {
		for _, part := range strings.Split(orderBy, ",") {
			f := strings.Fields(part)
			if len(f) == 0 || len(f) > 3 {
				return nil, "invalid orderby: " + part
			}
			ok := orderKey{}
			for _, mod := range f[1:] {
				switch strings.ToUpper(mod) {
				case "ASC":
				case "DESC":
					ok.desc = true
				case "TEXT", "NUMERIC":
				default:
					return nil, "invalid orderby: " + part
				}
			}
			e, err := compileExpr(f[0])
			if err != nil {
				return nil, "invalid orderby: " + part
			}
			ok.expr = e
			q.order = append(q.order, ok)
		}
	}
	return q, ""
}

// run selects the matching records of topics, whose locks the caller holds.
func (q *query) run(topics []*topic) queryResult {
	var res queryResult
	for _, t := range topics {
		res.topicMatches += len(t.sow.records)
		// A record past its expiry that the timer has not removed yet is
		// already gone for queries (expiration.go).
		now := t.sow.exp.now()
		for key, r := range t.sow.records {
			expires, gone := t.sow.exp.expired(key, now)
			if gone {
				res.topicMatches--
				continue
			}
			if q.keys != nil && !q.keys[key] {
				continue
			}
			if q.filter != nil && !q.filter.Match(r.data) {
				continue
			}
			res.records = append(res.records, resultRecord{topic: t.name, rec: r, expires: expires})
		}
	}
	res.matches = len(res.records)
	recs := res.records
	if len(q.order) == 0 {
		// Without orderby AMPS leaves the order undefined; insertion order
		// of the current versions is stable and cheap.
		sort.Slice(recs, func(i, j int) bool {
			if recs[i].topic != recs[j].topic {
				return recs[i].topic < recs[j].topic
			}
			return recs[i].rec.seq < recs[j].rec.seq
		})
	} else {
		vals := make([][]filter.Value, len(recs))
		for i, r := range recs {
			vals[i] = make([]filter.Value, len(q.order))
			for k, o := range q.order {
				vals[i][k] = o.expr.Eval(r.rec.data)
			}
		}
		idx := make([]int, len(recs))
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(a, b int) bool {
			for k, o := range q.order {
				c := compareValues(vals[idx[a]][k], vals[idx[b]][k])
				if c == 0 {
					continue
				}
				if o.desc {
					return c > 0
				}
				return c < 0
			}
			return recs[idx[a]].rec.seq < recs[idx[b]].rec.seq
		})
		sorted := make([]resultRecord, len(recs))
		for i, j := range idx {
			sorted[i] = recs[j]
		}
		res.records = sorted
	}
	if q.topN > 0 && len(res.records) > q.topN {
		res.records = res.records[:q.topN]
	}
	return res
}

// compareValues orders values for orderby: NULL first, then booleans,
// numbers, and strings.
func compareValues(a, b filter.Value) int {
	rank := func(v filter.Value) int {
		switch v.Kind {
		case filter.Bool:
			return 1
		case filter.Number:
			return 2
		case filter.String:
			return 3
		}
		return 0
	}
	ra, rb := rank(a), rank(b)
	if ra != rb {
		return ra - rb
	}
	switch a.Kind {
	case filter.Bool:
		if a.Bool == b.Bool {
			return 0
		}
		if !a.Bool {
			return -1
		}
		return 1
	case filter.Number:
		switch {
		case a.Num < b.Num:
			return -1
		case a.Num > b.Num:
			return 1
		}
	case filter.String:
		return strings.Compare(a.Str, b.Str)
	}
	return 0
}

// sendResults queues group_begin, the records in sow frames of q.bs
// records, and group_end.
func (c *client) sendResults(req *wire.Header, q *query, res queryResult) {
	c.sendFrame(&wire.Header{Command: "group_begin", CommandID: req.CommandID, QueryID: req.QueryID, SubID: req.SubID}, nil)
	recs := res.records
	now := c.srv.clock.Now().UnixNano() // for the `e` header of records that expire
	for len(recs) > 0 {
		n := min(q.bs, len(recs))
		// One topic per frame: the sow header names it.
		for i := 1; i < n; i++ {
			if recs[i].topic != recs[0].topic {
				n = i
				break
			}
		}
		size := 0
		for _, r := range recs[:n] {
			size += len(r.rec.data) + 96
		}
		frame := make([]byte, 0, 128+size)
		frame = append(frame, 0, 0, 0, 0)
		frame = wire.AppendHeader(frame, &wire.Header{Command: "sow", Topic: recs[0].topic, QueryID: req.QueryID, SubID: req.SubID, BatchSize: n})
		for _, r := range recs[:n] {
			frame = wire.AppendSOWRecord(frame, &wire.Header{Topic: r.topic, SowKey: r.rec.key, Timestamp: r.rec.ts, Expiration: expirationHeader(r.expires, now)}, r.rec.data)
		}
		putLength(frame)
		c.enqueue(frame)
		recs = recs[n:]
	}
	c.sendFrame(&wire.Header{Command: "group_end", CommandID: req.CommandID, QueryID: req.QueryID, SubID: req.SubID}, nil)
}

func putLength(frame []byte) {
	n := len(frame) - 4
	frame[0], frame[1], frame[2], frame[3] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
}

func (c *client) sendStats(req *wire.Header, res queryResult, deleted int) {
	h := ackHeader(req, "stats", "success", "")
	h.HasStats = true
	h.Matches = res.matches
	h.TopicMatches = res.topicMatches
	h.RecordsReturned = len(res.records)
	h.RecordsDeleted = deleted
	c.sendFrame(&h, nil)
}

// sow answers a SOW query: processed ack, group_begin, sow frames,
// group_end, then the completed and stats acks.
func (c *client) sow(h *wire.Header) {
	acks := parseAcks(h.AckType)
	req := *h
	if req.QueryID == "" {
		req.QueryID = req.SubID
	}
	if req.QueryID == "" {
		req.QueryID = req.CommandID
	}
	c.ackReceived(&req, acks)
	q, reason := parseQuery(&req, req.OrderBy, req.TopN)
	if reason != "" {
		c.fail(&req, acks, reason)
		return
	}
	if req.Options != "" {
		if reason := applyQueryOptions(q, req.Options); reason != "" {
			c.fail(&req, acks, reason)
			return
		}
	}
	if req.Bookmark != "" {
		c.historicalSOW(&req, acks, q) // historical_sow.go
		return
	}
	view, skip, reason := c.sowExtras(&req)
	if reason != "" {
		c.fail(&req, acks, reason)
		return
	}
	topics := c.srv.resolveSOW(q.topic, q.re)
	if len(topics) == 0 && q.re == nil {
		c.fail(&req, acks, "invalid topic")
		return
	}
	if acks&ackProcessed != 0 {
		c.sendAck(&req, "processed", "success", "")
	}
	for _, t := range topics {
		t.mu.Lock()
	}
	res := c.srv.runQuery(q, topics, view, skip)
	for _, t := range topics {
		t.mu.Unlock()
	}
	// Records are immutable, so the results can be sent without the locks.
	c.sendResults(&req, q, res)
	if acks&ackCompleted != 0 {
		c.sendAck(&req, "completed", "success", "")
	}
	if acks&ackStats != 0 {
		c.sendStats(&req, res, 0)
	}
}
