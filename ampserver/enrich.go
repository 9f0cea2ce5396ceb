package ampserver

import (
	"fmt"

	"ampsflume/filter"
)

// processor is the compiled <Preprocessing> or <Enrichment> of a SOW topic.
// It is immutable and safe for concurrent use.
//
// Where it runs (publish.go), as the AMPS documentation describes:
// preprocessing on the message as published, before the SOW key is
// computed, so it may build key fields; enrichment after the key is known
// and before a delta_publish is merged into the stored record, with OF
// PREVIOUS reading that stored record. The SOW, the transaction log,
// replication, views and subscribers all see the processed message.
// Messages received over replication are not processed again.
type processor struct {
	fields   []*fieldSpec
	tree     []*editNode
	usesPrev bool
}

// compileProcessor compiles the Field entries of a Preprocessing
// (allowPrevious false) or Enrichment section. On error, bad is the index
// of the offending entry, or -1 when the entries conflict with each other.
func compileProcessor(specs []string, allowPrevious bool) (p *processor, bad int, err error) {
	if len(specs) == 0 {
		return nil, -1, nil
	}
	p = &processor{}
	for i, s := range specs {
		f, err := parseFieldSpec(s, allowPrevious)
		if err != nil {
			return nil, i, err
		}
		p.fields = append(p.fields, f)
		p.usesPrev = p.usesPrev || f.usesPrev
	}
	if p.tree, err = buildEditTree(p.fields); err != nil {
		return nil, -1, err
	}
	return p, -1, nil
}

// apply constructs the fields for the message cur; prev is the record's
// previous state (nil when there is none, and always for preprocessing).
// Fields are evaluated against the message as it arrived, except that a
// field with HINT SET_CURRENT updates the message at once, for the fields
// after it.
func (p *processor) apply(cur, prev []byte) ([]byte, error) {
	vals := make([]fieldValue, len(p.fields))
	src := cur
	if p.usesPrev {
		src = withPrevious(cur, prev)
	}
	for i, f := range p.fields {
		v := f.expr.Eval(src)
		vals[i] = fieldValue{v: v, remove: f.optional && v.Kind == filter.Null}
		if f.setCurrent {
			one := []fieldValue{vals[i]}
			next, err := editDocument(cur, f.single, one)
			if err != nil {
				return nil, err
			}
			cur = next
			src = cur
			if p.usesPrev {
				src = withPrevious(cur, prev)
			}
		}
	}
	return editDocument(cur, p.tree, vals)
}

// initProcessing compiles a SOW topic's Preprocessing and Enrichment (the
// configuration parser has checked them already when they come from a file).
func (t *topic) initProcessing(sc *SOWTopicConfig) error {
	pre, bad, err := compileProcessor(sc.Preprocessing, false)
	if err != nil {
		return fmt.Errorf("SOW topic %q: Preprocessing%s: %w", sc.Name, fieldIndex(bad), err)
	}
	enr, bad, err := compileProcessor(sc.Enrichment, true)
	if err != nil {
		return fmt.Errorf("SOW topic %q: Enrichment%s: %w", sc.Name, fieldIndex(bad), err)
	}
	t.ext.pre, t.ext.enr = pre, enr
	return nil
}

func fieldIndex(i int) string {
	if i < 0 {
		return ""
	}
	return fmt.Sprintf(" Field %d", i+1)
}

// preprocess runs the topic's preprocessing on a published message; it
// returns the AMPS failure reason, or "".
func (t *topic) preprocess(data []byte) ([]byte, string) {
	if t.ext.pre == nil {
		return data, ""
	}
	out, err := t.ext.pre.apply(data, nil)
	if err != nil {
		return nil, "invalid message type"
	}
	return out, ""
}

// enrich runs the topic's enrichment on a message whose SOW key is known
// (the caller holds the topic lock); it returns the AMPS failure reason, or "".
func (t *topic) enrich(key string, data []byte) ([]byte, string) {
	if t.ext.enr == nil {
		return data, ""
	}
	var prev []byte
	if r := t.sow.records[key]; r != nil {
		prev = r.data
	}
	out, err := t.ext.enr.apply(data, prev)
	if err != nil {
		return nil, "invalid message type"
	}
	return out, ""
}
