package ampserver

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"ampsflume/ampserver/options"
)

// DefaultLeasePeriod is a queue's LeasePeriod when its definition has none.
const DefaultLeasePeriod = 5 * time.Minute

// QueueConfig is one <Queue> (also <QueueDefinition> or <LocalQueue>) of
// the <SOW> section: a message queue over the journaled messages of its
// underlying topic (queue.go).
type QueueConfig struct {
	Name        string
	MessageType string
	// UnderlyingTopic is the topic, or regular expression, whose publishes
	// enter the queue; empty means the queue's own Name.
	UnderlyingTopic string
	// LeasePeriod is how long a subscriber holds a message before it goes
	// back to the queue unacknowledged (DefaultLeasePeriod when zero).
	LeasePeriod time.Duration

	// Line is where the queue is defined, for errors found after parsing.
	Line int
}

// underlying is the topic expression publishes are matched against.
func (qc *QueueConfig) underlying() string {
	if qc.UnderlyingTopic != "" {
		return qc.UnderlyingTopic
	}
	return qc.Name
}

// queue parses a <Queue> element.
func (p *configParser) queue(n *node) (QueueConfig, error) {
	qc := QueueConfig{Line: n.line}
	for _, c := range n.children {
		v := c.value()
		switch c.name {
		case "Name", "Topic":
			qc.Name = v
		case "MessageType":
			qc.MessageType = v
		case "UnderlyingTopic":
			qc.UnderlyingTopic = v
		case "LeasePeriod":
			d, err := options.ParseInterval(v)
			if err != nil || d <= 0 {
				return qc, p.errf(c, "queue LeasePeriod: want a duration such as 30s or 5m, got %q", v)
			}
			qc.LeasePeriod = d
		case "Semantics":
			// Only at-least-once is implemented: a message leaves the
			// queue when acknowledged, never on delivery.
			if !strings.EqualFold(v, "at-least-once") {
				return qc, p.errf(c, "queue Semantics %q is not supported (at-least-once)", v)
			}
		default:
			p.unknown(c)
		}
	}
	if qc.Name == "" {
		return qc, p.errf(n, "Queue needs a Name")
	}
	if mt := strings.ToLower(qc.MessageType); mt != "" && mt != "json" {
		return qc, p.errf(n, "queue %q: MessageType %q is not supported (json)", qc.Name, qc.MessageType)
	}
	if isRegexTopic(qc.Name) {
		return qc, p.errf(n, "queue %q: the Name must be a literal topic (a regular expression goes in UnderlyingTopic)", qc.Name)
	}
	if _, err := regexp.Compile(qc.underlying()); err != nil {
		return qc, p.errf(n, "queue %q: UnderlyingTopic: %v", qc.Name, err)
	}
	return qc, nil
}

// checkQueues validates the queues against the rest of the configuration:
// names are unique among SOW topics, views and queues, and the underlying
// topic is recorded in the transaction log, which holds a queue's messages.
func checkQueues(cfg *Config) error {
	seen := map[string]bool{}
	for _, sc := range cfg.SOW {
		seen[sc.Name] = true
	}
	for _, vc := range cfg.Views {
		seen[vc.Name] = true
	}
	for i := range cfg.Queues {
		qc := &cfg.Queues[i]
		fail := func(format string, args ...any) error {
			return &ConfigError{File: cfg.File, Line: qc.Line, Element: "Queue", Msg: fmt.Sprintf(format, args...)}
		}
		if seen[qc.Name] {
			return fail("queue %q: the name is already a SOW topic, view or queue", qc.Name)
		}
		seen[qc.Name] = true
		if cfg.TransactionLog == nil {
			return fail("queue %q needs a TransactionLog recording its underlying topic %q (a queue's messages live in the transaction log)", qc.Name, qc.underlying())
		}
		if !txlogCovers(cfg.TransactionLog, qc.underlying()) {
			return fail("queue %q: its underlying topic %q is not recorded by the TransactionLog: add <Topic><Name>%s</Name></Topic> to it", qc.Name, qc.underlying(), qc.underlying())
		}
	}
	return nil
}

// txlogCovers tells whether the transaction log records the topic named by
// expr. A literal topic must match one of the log's topic expressions; a
// regular expression must appear there as written (whether one expression
// covers another is not decidable here in general).
func txlogCovers(tl *TransactionLogConfig, expr string) bool {
	for _, tr := range tl.Topics {
		if tr.Name == expr {
			return true
		}
		if isRegexTopic(expr) {
			continue
		}
		if re, err := regexp.Compile("^(?:" + tr.Name + ")$"); err == nil && re.MatchString(expr) {
			return true
		}
	}
	return false
}
