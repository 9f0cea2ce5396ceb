package amps

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// haPublish is the publishing side of an HAClient: every publish goes
// through the publish store, persisted acks discard from it, and after each
// reconnection the unacknowledged ones are sent again, in order, before any
// new publish.
type haPublish struct {
	store PublishStore

	mu    sync.Mutex // orders sends: a re-send never overtakes a new publish
	ready bool       // connected, logged on, re-sends done
	acked chan struct{}
}

// WithPublishStore makes the HA client's Publish reliable across failovers:
// publishes are numbered and kept in store until the server acknowledges
// them as persisted, and re-sent with their original numbers after a
// reconnection (the server drops the ones it already has).
func WithPublishStore(store PublishStore) HAOption {
	return func(h *HAClient) {
		p := &haPublish{store: store, acked: make(chan struct{}, 1)}
		h.pub = p
		h.client.OnPersisted(func(seq uint64) {
			if err := store.Discard(seq); err != nil {
				h.log.Error("publish store discard failed", "err", err)
			}
			select {
			case p.acked <- struct{}{}:
			default:
			}
		})
	}
}

// Publish publishes data to topic. With a publish store the message is
// stored first and sent when connected (now, or after the next
// reconnection); without one it is sent on the current connection.
func (h *HAClient) Publish(topic string, data []byte) error {
	return h.publishCmd(Command{Name: CmdPublish, Topic: topic, Data: data})
}

// DeltaPublish is Publish as a delta_publish.
func (h *HAClient) DeltaPublish(topic string, data []byte) error {
	return h.publishCmd(Command{Name: CmdDeltaPublish, Topic: topic, Data: data})
}

func (h *HAClient) publishCmd(cmd Command) error {
	if cmd.Topic == "" {
		return fmt.Errorf("amps: %s: empty topic", cmd.Name)
	}
	p := h.pub
	if p == nil {
		return h.client.publish(cmd.Name, cmd.Topic, cmd.Data)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.store.Store(&cmd); err != nil {
		return err
	}
	if p.ready {
		cmd.AckType = AckPersisted
		if err := h.client.Send(cmd); err != nil {
			p.ready = false // re-sent after the reconnection
		}
	}
	return nil
}

// pausePublishes runs when a connection attempt starts: new publishes are
// only stored until the re-sends are done.
func (h *HAClient) pausePublishes() {
	if p := h.pub; p != nil {
		p.mu.Lock()
		p.ready = false
		p.mu.Unlock()
	}
}

// resumePublishes runs after a logon: it discards what the server says it
// has and re-sends the rest with their original sequence numbers.
func (h *HAClient) resumePublishes(info LogonInfo) error {
	p := h.pub
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if info.HasSeq {
		if err := p.store.Discard(info.Seq); err != nil {
			return err
		}
	}
	cmds := p.store.Unpersisted()
	for i := range cmds {
		cmds[i].AckType = AckPersisted
		if err := h.client.Send(cmds[i]); err != nil {
			return fmt.Errorf("amps: re-sending publish %d: %w", cmds[i].Seq, err)
		}
	}
	if len(cmds) > 0 {
		h.log.Info("AMPS publishes re-sent after reconnecting", "count", len(cmds), "first_seq", cmds[0].Seq)
	}
	p.ready = true
	return nil
}

// Unpersisted is the number of publishes the server has not yet
// acknowledged as persisted (0 without a publish store).
func (h *HAClient) Unpersisted() int {
	if h.pub == nil {
		return 0
	}
	return h.pub.store.Len()
}

// WaitPersisted waits until every publish was acknowledged as persisted,
// across reconnections, or ctx ends.
func (h *HAClient) WaitPersisted(ctx context.Context) error {
	p := h.pub
	if p == nil {
		return errors.New("amps: WaitPersisted needs a publish store")
	}
	tk := time.NewTicker(50 * time.Millisecond) // also covers a missed signal
	defer tk.Stop()
	for p.store.Len() > 0 {
		select {
		case <-p.acked:
		case <-tk.C:
		case <-ctx.Done():
			return fmt.Errorf("amps: %d publishes not persisted: %w", p.store.Len(), ctx.Err())
		}
	}
	return nil
}
