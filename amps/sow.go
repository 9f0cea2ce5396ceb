package amps

import (
	"context"
	"fmt"
)

// Sow queries the State of the World of topic. The stream carries a
// group_begin, one "sow" message per record, a group_end, and ends when the
// query completes.
func (c *Client) Sow(ctx context.Context, topic, filter string) (*MessageStream, error) {
	if topic == "" {
		return nil, fmt.Errorf("amps: sow: empty topic")
	}
	return c.Execute(ctx, Command{Name: CmdSow, Topic: topic, Filter: filter})
}

// SowAndSubscribe queries topic and subscribes to it atomically: the stream
// carries the query's records between group_begin and group_end, then live
// publishes.
func (c *Client) SowAndSubscribe(ctx context.Context, topic, filter string) (*MessageStream, error) {
	if topic == "" {
		return nil, fmt.Errorf("amps: sow_and_subscribe: empty topic")
	}
	return c.Execute(ctx, Command{Name: CmdSowAndSubscribe, Topic: topic, Filter: filter})
}
