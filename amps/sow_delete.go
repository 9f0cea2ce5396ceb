package amps

import (
	"context"
	"fmt"
)

// SowDelete deletes the SOW records of topic that match filter ("1=1" for
// all) and returns how many were deleted.
func (c *Client) SowDelete(ctx context.Context, topic, filter string) (int, error) {
	if filter == "" {
		return 0, fmt.Errorf("amps: sow_delete: empty filter (use 1=1 to delete every record)")
	}
	return c.SowDeleteCommand(ctx, Command{Topic: topic, Filter: filter})
}

// SowDeleteByKeys deletes the records with the given SOW keys (a comma list).
func (c *Client) SowDeleteByKeys(ctx context.Context, topic, keys string) (int, error) {
	if keys == "" {
		return 0, fmt.Errorf("amps: sow_delete: empty key list")
	}
	return c.SowDeleteCommand(ctx, Command{Topic: topic, SowKeys: keys})
}

// SowDeleteByData deletes the record whose key the server computes from the
// message data.
func (c *Client) SowDeleteByData(ctx context.Context, topic string, data []byte) (int, error) {
	if len(data) == 0 {
		return 0, fmt.Errorf("amps: sow_delete: empty message")
	}
	return c.SowDeleteCommand(ctx, Command{Topic: topic, Data: data})
}

// SowDeleteCommand runs a sow_delete built by the caller (for example with
// a bookmark list and options) and returns records_deleted from its stats
// ack. The command's name is set by SowDeleteCommand.
func (c *Client) SowDeleteCommand(ctx context.Context, cmd Command) (int, error) {
	cmd.Name = CmdSowDelete
	if cmd.Topic == "" {
		return 0, fmt.Errorf("amps: sow_delete: empty topic")
	}
	r, err := c.exec(ctx, cmd, nil)
	if err != nil {
		return 0, err
	}
	select {
	case <-r.finished:
	case <-ctx.Done():
		r.cn.end(r, ctx.Err(), true)
		return 0, fmt.Errorf("amps: sow_delete (cid %s): waiting for stats: %w", r.cid, ctx.Err())
	}
	r.mu.Lock()
	stats, endErr := r.stats, r.endErr
	r.mu.Unlock()
	if endErr != nil {
		return 0, endErr
	}
	if stats == nil {
		return 0, fmt.Errorf("amps: sow_delete (cid %s): no stats ack", r.cid)
	}
	return stats.RecordsDeleted, nil
}
