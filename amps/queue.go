package amps

import (
	"context"
	"fmt"
	"strings"
	"sync"
)

// Queue messages. A subscription to an AMPS message queue receives each
// message under a lease (its LeasePeriod header, `lp`) and must acknowledge
// it by bookmark, with a sow_delete whose `bm` is a comma list, or the
// message goes to another subscriber when the lease ends or the connection
// closes. Subscribe with Options "max_backlog=N" to hold up to N unacknowledged
// messages at once (the server's default is 1).
//
// A Message holds no reference to the Client it came from, so there is no
// Message.Ack: acknowledge with Client.Ack (one command per call, waits for
// the result) or a QueueAcker (batches, never waits, for a consumer that
// must keep reading).

// IsQueueMessage tells whether m came from a message queue (it carries a
// lease).
func (m *Message) IsQueueMessage() bool { return m.LeasePeriod != "" }

// Ack acknowledges queue messages of topic (the queue's name) by bookmark
// in one sow_delete and returns how many the server removed. A message whose
// lease passed to another connection is not removed by this one's ack.
func (c *Client) Ack(ctx context.Context, topic string, bookmarks ...string) (int, error) {
	if len(bookmarks) == 0 {
		return 0, nil
	}
	if topic == "" {
		return 0, fmt.Errorf("amps: ack: empty topic")
	}
	return c.SowDeleteCommand(ctx, Command{Topic: topic, Bookmark: strings.Join(bookmarks, ",")})
}

// QueueAcker batches queue acknowledgements: Add keeps a message's bookmark
// and sends one sow_delete per queue once Batch bookmarks are pending, and
// Flush sends what is pending. Commands go out with Client.Send, without
// waiting for a reply. A batch should not be larger than the subscription's
// max_backlog, or the server has nothing more to deliver while the consumer
// waits for the batch to fill; call Flush when the consumer is idle.
// Safe for concurrent use.
type QueueAcker struct {
	c     *Client
	batch int

	mu      sync.Mutex
	pending map[string][]string // queue topic -> bookmarks
	n       int
}

// NewQueueAcker returns an acker for c that sends once batch bookmarks are
// pending (batch < 1 is 1: every Add sends).
func NewQueueAcker(c *Client, batch int) *QueueAcker {
	return &QueueAcker{c: c, batch: max(batch, 1), pending: map[string][]string{}}
}

// Add acknowledges m, a message from a queue subscription.
func (a *QueueAcker) Add(m *Message) error {
	if m.Bookmark == "" || m.Topic == "" {
		return fmt.Errorf("amps: ack: message without bookmark or topic (not a queue message?)")
	}
	a.mu.Lock()
	a.pending[m.Topic] = append(a.pending[m.Topic], m.Bookmark)
	a.n++
	full := a.n >= a.batch
	a.mu.Unlock()
	if full {
		return a.Flush()
	}
	return nil
}

// Flush sends the pending acknowledgements, one sow_delete per queue.
func (a *QueueAcker) Flush() error {
	a.mu.Lock()
	pending := a.pending
	a.pending, a.n = map[string][]string{}, 0
	a.mu.Unlock()
	var first error
	for topic, bms := range pending {
		err := a.c.Send(Command{Name: CmdSowDelete, Topic: topic, Bookmark: strings.Join(bms, ",")})
		if err == nil {
			continue
		}
		// Kept for the next Flush: an acknowledgement is never dropped
		// here (after a reconnect the server may have leased the message
		// again, and then ignores it).
		a.mu.Lock()
		a.pending[topic] = append(bms, a.pending[topic]...)
		a.n += len(bms)
		a.mu.Unlock()
		if first == nil {
			first = fmt.Errorf("amps: ack %d messages of %q: %w", len(bms), topic, err)
		}
	}
	return first
}
