package amps

import "context"

// Flush waits until the server has processed every command this client sent
// before it, publishes included.
func (c *Client) Flush(ctx context.Context) error {
	_, err := c.exec(ctx, Command{Name: CmdFlush}, nil)
	return err
}
