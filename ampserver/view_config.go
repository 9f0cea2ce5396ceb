package ampserver

import (
	"strings"

	"ampsflume/filter"
)

// ViewConfig is one <View> (or <ViewDefinition>) of the <SOW> section.
type ViewConfig struct {
	Name            string
	MessageType     string // json (the only message type served)
	UnderlyingTopic string // a SOW topic or another view
	Projection      []string
	Grouping        []string
	Filter          string // selects the underlying records that contribute
	KeyDomain       string // seed of the view's SowKeys; default the Name

	// Line is where the view is defined, for errors found after parsing.
	Line int
}

// view parses a <View>. Expressions are compiled here, so that a bad one is
// reported with the line of its element.
func (p *configParser) view(n *node) (ViewConfig, error) {
	vc := ViewConfig{Line: n.line}
	var projNodes, groupNodes []*node
	var filterNode *node
	for _, c := range n.children {
		v := c.value()
		switch c.name {
		case "Name":
			vc.Name = v
		case "Topic":
			// Accepted for the Name by AMPS before 5.0.
			if vc.Name == "" {
				vc.Name = v
			}
		case "MessageType":
			vc.MessageType = v
		case "UnderlyingTopic":
			for _, j := range c.children {
				if j.name == "Join" {
					return vc, p.errf(j, "views over joined topics are not supported")
				}
				p.unknown(j)
			}
			vc.UnderlyingTopic = v
		case "Projection", "Grouping":
			for _, f := range c.children {
				if f.name != "Field" {
					p.unknown(f)
					continue
				}
				if f.value() == "" {
					return vc, p.errf(f, "empty Field")
				}
				if c.name == "Projection" {
					vc.Projection = append(vc.Projection, f.value())
					projNodes = append(projNodes, f)
				} else {
					vc.Grouping = append(vc.Grouping, f.value())
					groupNodes = append(groupNodes, f)
				}
			}
		case "Filter":
			vc.Filter, filterNode = v, c
		case "KeyDomain":
			vc.KeyDomain = v
		case "Conflation":
			// inline lets AMPS skip superseded updates of a record; every
			// update is processed in order here, which inline permits.
			switch strings.ToLower(v) {
			case "none", "inline":
			default:
				return vc, p.errf(c, "Conflation %q (none or inline)", v)
			}
		case "HashIndex", "FileName", "JoinNullEquivalency", "Expiration":
			// Accepted: hash indexes are a query speed-up, and AMPS does
			// not use FileName for views.
		default:
			p.unknown(c)
		}
	}
	switch {
	case vc.Name == "":
		return vc, p.errf(n, "View needs a Name")
	case vc.MessageType == "":
		return vc, p.errf(n, "view %q needs a MessageType", vc.Name)
	case !strings.EqualFold(vc.MessageType, "json"):
		return vc, p.errf(n, "view %q: MessageType %q is not supported (json)", vc.Name, vc.MessageType)
	case vc.UnderlyingTopic == "":
		return vc, p.errf(n, "view %q needs an UnderlyingTopic", vc.Name)
	case isRegexTopic(vc.UnderlyingTopic):
		return vc, p.errf(n, "view %q: UnderlyingTopic %q must be a topic name, not a pattern", vc.Name, vc.UnderlyingTopic)
	case len(vc.Projection) == 0:
		return vc, p.errf(n, "view %q needs a Projection with at least one Field", vc.Name)
	case len(vc.Grouping) == 0:
		return vc, p.errf(n, "view %q needs a Grouping with at least one Field", vc.Name)
	}
	for _, g := range groupNodes {
		if _, err := filter.ParsePath(g.value()); err != nil {
			return vc, p.errf(g, "view %q: grouping %q is not a field: %v", vc.Name, g.value(), err)
		}
	}
	if filterNode != nil {
		if _, err := compileView(&ViewConfig{Projection: vc.Grouping[:1], Grouping: vc.Grouping, Filter: vc.Filter}); err != nil {
			return vc, p.errf(filterNode, "view %q: %v", vc.Name, err)
		}
	}
	// Each projection entry alone, for the line of a bad one; then all of
	// them, for conflicts between entries.
	for _, f := range projNodes {
		if _, err := compileView(&ViewConfig{Projection: []string{f.value()}, Grouping: vc.Grouping}); err != nil {
			return vc, p.errf(f, "view %q: %v", vc.Name, err)
		}
	}
	if _, err := compileView(&vc); err != nil {
		return vc, p.errf(n, "view %q: %v", vc.Name, err)
	}
	return vc, nil
}

// checkViews validates what depends on the whole <SOW> section: names are
// unique, underlying topics exist, and views do not depend on each other in
// a cycle.
func (p *configParser) checkViews(cfg *Config) error {
	kind := map[string]string{}
	for _, sc := range cfg.SOW {
		kind[sc.Name] = "topic"
	}
	for _, vc := range cfg.Views {
		at := &node{name: "View", line: vc.Line}
		if kind[vc.Name] != "" {
			return p.errf(at, "view %q: the name is already used by a SOW %s", vc.Name, kind[vc.Name])
		}
		kind[vc.Name] = "view"
	}
	under := map[string]string{}
	for _, vc := range cfg.Views {
		under[vc.Name] = vc.UnderlyingTopic
	}
	for _, vc := range cfg.Views {
		at := &node{name: "View", line: vc.Line}
		if kind[vc.UnderlyingTopic] == "" {
			return p.errf(at, "view %q: UnderlyingTopic %q is not a SOW topic or view of this configuration", vc.Name, vc.UnderlyingTopic)
		}
		seen := map[string]bool{vc.Name: true}
		for u := vc.UnderlyingTopic; kind[u] == "view"; u = under[u] {
			if seen[u] {
				return p.errf(at, "view %q: views depend on each other in a cycle", vc.Name)
			}
			seen[u] = true
		}
	}
	return nil
}

// fieldList parses a <Preprocessing> or <Enrichment> section: its <Field>
// entries, each compiled here so that a bad one is reported with its line.
func (p *configParser) fieldList(n *node) ([]string, error) {
	var specs []string
	for _, c := range n.children {
		if c.name != "Field" {
			p.unknown(c)
			continue
		}
		// A Field may span lines: newlines are blanks to the expression
		// language, and string literals must stay as written.
		spec := c.value()
		if _, err := parseFieldSpec(spec, n.name == "Enrichment"); err != nil {
			return nil, p.errf(c, "%s field %q: %v", n.name, spec, err)
		}
		specs = append(specs, spec)
	}
	if len(specs) == 0 {
		return nil, p.errf(n, "%s needs at least one Field", n.name)
	}
	if _, _, err := compileProcessor(specs, n.name == "Enrichment"); err != nil {
		return nil, p.errf(n, "%s: %v", n.name, err)
	}
	return specs, nil
}
