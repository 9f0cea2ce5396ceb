package ampserver

import (
	"ampsflume/amps/wire"
	"ampsflume/ampserver/aggregate"
	"ampsflume/ampserver/options"
)

// sowExtras validates the parts of a sow query's options that the core
// query does not handle: an aggregation (projection and grouping) and
// skip_n. It returns the AMPS failure reason, or "".
func (c *client) sowExtras(req *wire.Header) (view *aggregate.View, skip int, reason string) {
	if req.Options == "" {
		return nil, 0, ""
	}
	o, err := options.Parse(req.Options)
	if err != nil {
		return nil, 0, options.Reason
	}
	if o.HasSkipN {
		skip = o.SkipN
	}
	if !o.Aggregated() {
		return nil, skip, ""
	}
	switch {
	case isRegexTopic(req.Topic):
		return nil, 0, "regex topic not supported"
	case req.Bookmark != "":
		return nil, 0, options.Reason
	}
	cfg := aggregate.Config{Projection: o.Projection, Grouping: o.Grouping}
	if req.Filter != "" {
		m, err := compileFilter(req.Filter)
		if err != nil {
			return nil, 0, "bad filter"
		}
		cfg.Filter = m.Match
	}
	v, err := aggregate.New(cfg)
	if err != nil {
		c.srv.log.Debug("aggregated query refused", append(c.logAttrs(), "err", err)...)
		return nil, 0, options.Reason
	}
	return v, skip, ""
}

// runQuery runs a query whose topics' locks the caller holds: over an
// aggregation view when there is one, then skipping the first skip results
// (skip_n paginates together with top_n).
func (s *Server) runQuery(q *query, topics []*topic, view *aggregate.View, skip int) queryResult {
	topN := q.topN
	if skip > 0 && topN > 0 {
		q.topN = topN + skip
		defer func() { q.topN = topN }()
	}
	var res queryResult
	if view != nil {
		res = s.aggregateQuery(view, q, topics, nil)
	} else {
		res = q.run(topics)
	}
	if skip > 0 {
		res.records = res.records[min(skip, len(res.records)):]
	}
	return res
}
