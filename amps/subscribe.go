package amps

import (
	"context"
	"fmt"
)

// Subscribe subscribes to topic (a name or a regular expression) with an
// optional content filter and returns the stream of deliveries.
func (c *Client) Subscribe(ctx context.Context, topic, filter string) (*MessageStream, error) {
	if topic == "" {
		return nil, fmt.Errorf("amps: subscribe: empty topic")
	}
	return c.Execute(ctx, Command{Name: CmdSubscribe, Topic: topic, Filter: filter})
}

// DeltaSubscribe is Subscribe with delta_subscribe: updates carry only the
// fields that changed.
func (c *Client) DeltaSubscribe(ctx context.Context, topic, filter string) (*MessageStream, error) {
	if topic == "" {
		return nil, fmt.Errorf("amps: delta_subscribe: empty topic")
	}
	return c.Execute(ctx, Command{Name: CmdDeltaSubscribe, Topic: topic, Filter: filter})
}
