package cli

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"ampsflume/flume/config"
)

// printTopology draws how events flow through the agent, in the order they
// travel: sources (with their interceptors and selector) to channels, and
// channels to sink processors and sinks. It shows what validation kept, so
// a component dropped for an error is visibly missing.
func printTopology(w io.Writer, cfg *config.Agent) {
	fmt.Fprintf(w, "agent %q\n", cfg.Name)
	if len(cfg.Sources) > 0 {
		fmt.Fprintln(w, "  sources:")
	}
	for _, s := range cfg.Sources {
		fmt.Fprintf(w, "    %s (%s)\n", s.Name, s.Type)
		if len(s.Interceptors) > 0 {
			var names []string
			for _, i := range s.Interceptors {
				names = append(names, fmt.Sprintf("%s (%s)", i.Name, i.Type))
			}
			fmt.Fprintf(w, "      interceptors: %s\n", strings.Join(names, " -> "))
		}
		printSelector(w, s)
	}
	groupOf := map[string]*config.Component{}
	for _, g := range cfg.SinkGroups {
		for _, k := range g.Sinks {
			groupOf[k] = g
		}
	}
	if len(cfg.Channels) > 0 {
		fmt.Fprintln(w, "  channels:")
	}
	for _, c := range cfg.Channels {
		var readers []string
		seenGroup := map[string]bool{}
		for _, k := range cfg.Sinks {
			if k.Channel != c.Name {
				continue
			}
			if g := groupOf[k.Name]; g != nil {
				if !seenGroup[g.Name] {
					seenGroup[g.Name] = true
					readers = append(readers, "sink group "+g.Name)
				}
				continue
			}
			readers = append(readers, "sink "+k.Name)
		}
		to := "nothing reads it"
		if len(readers) > 0 {
			to = strings.Join(readers, ", ")
		}
		fmt.Fprintf(w, "    %s (%s) -> %s\n", c.Name, c.Type, to)
	}
	if len(cfg.SinkGroups) > 0 {
		fmt.Fprintln(w, "  sink processors:")
	}
	for _, g := range cfg.SinkGroups {
		fmt.Fprintf(w, "    sink group %s: %s\n", g.Name, describeProcessor(g))
	}
	if len(cfg.Sinks) > 0 {
		fmt.Fprintln(w, "  sinks:")
	}
	for _, k := range cfg.Sinks {
		from := k.Channel
		if from == "" {
			from = "(no channel)"
		}
		line := fmt.Sprintf("    %s (%s) <- %s", k.Name, k.Type, from)
		if g := groupOf[k.Name]; g != nil {
			line += ", in sink group " + g.Name
		}
		fmt.Fprintln(w, line)
	}
}

func printSelector(w io.Writer, s *config.Component) {
	sel := s.Selector
	if sel == nil {
		fmt.Fprintf(w, "      -> %s\n", strings.Join(s.Channels, " "))
		return
	}
	switch sel.Type {
	case config.SelectorMultiplexing:
		fmt.Fprintf(w, "      -> multiplexing selector on header %q:\n", sel.Header)
		values := make([]string, 0, len(sel.Mapping))
		for v := range sel.Mapping {
			values = append(values, v)
		}
		for v := range sel.OptionalFor {
			if _, ok := sel.Mapping[v]; !ok {
				values = append(values, v)
			}
		}
		sort.Strings(values)
		for _, v := range values {
			to := sel.Mapping[v]
			if opt := sel.OptionalFor[v]; len(opt) > 0 {
				to = append(append([]string(nil), to...), "(optional: "+strings.Join(opt, " ")+")")
			}
			fmt.Fprintf(w, "           %q -> %s\n", v, strings.Join(to, " "))
		}
		if sel.HasDefault {
			fmt.Fprintf(w, "           otherwise -> %s\n", strings.Join(sel.Default, " "))
		} else {
			fmt.Fprintln(w, "           otherwise -> dropped (no selector.default)")
		}
	case config.SelectorLoadBalancing:
		fmt.Fprintf(w, "      -> load_balancing selector (%s), one of: %s\n", sel.Policy, strings.Join(s.Channels, " "))
	default:
		line := fmt.Sprintf("      -> replicating selector -> %s", strings.Join(s.Channels, " "))
		if len(sel.Optional) > 0 {
			line += fmt.Sprintf(" (optional: %s)", strings.Join(sel.Optional, " "))
		}
		fmt.Fprintln(w, line)
	}
}

func describeProcessor(g *config.Component) string {
	p := g.Processor
	if p == nil {
		return strings.Join(g.Sinks, " ")
	}
	switch p.Type {
	case config.ProcessorFailover:
		sinks := append([]string(nil), g.Sinks...)
		sort.SliceStable(sinks, func(i, j int) bool { return p.Priority[sinks[i]] > p.Priority[sinks[j]] })
		var parts []string
		for _, k := range sinks {
			parts = append(parts, fmt.Sprintf("%s (priority %d)", k, p.Priority[k]))
		}
		return fmt.Sprintf("failover, in order %s; maxpenalty %s", strings.Join(parts, ", "), p.MaxPenalty)
	case config.ProcessorLoadBalance:
		backoff := "no backoff"
		if p.Backoff {
			backoff = fmt.Sprintf("backoff up to %s", p.MaxTimeOut)
		}
		return fmt.Sprintf("load_balance (%s, %s) over %s", p.Selector, backoff, strings.Join(g.Sinks, " "))
	default:
		return "default -> " + strings.Join(g.Sinks, " ")
	}
}
