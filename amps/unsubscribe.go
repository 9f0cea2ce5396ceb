package amps

import (
	"context"
	"fmt"

	"ampsflume/amps/wire"
)

func wireUnsubscribe(cid, subID string, ack bool) wire.Header {
	h := wire.Header{Command: CmdUnsubscribe, CommandID: cid, SubID: subID}
	if ack {
		h.AckType = AckProcessed
	}
	return h
}

// Unsubscribe ends the subscription subID ("all" ends every subscription of
// this connection) and waits for the server to confirm. Its stream ends
// normally: messages already buffered can still be read, later ones are
// dropped.
func (c *Client) Unsubscribe(ctx context.Context, subID string) error {
	if subID == "" {
		return fmt.Errorf("amps: unsubscribe: empty sub_id")
	}
	cn, err := c.current()
	if err != nil {
		return fmt.Errorf("amps: unsubscribe: %w", err)
	}
	// End the local routes first: a reader blocked on one of their streams
	// must be released or it could never read the ack below.
	cn.rmu.Lock()
	var ended []*route
	for id, r := range cn.bySub {
		if subID == "all" || id == subID {
			ended = append(ended, r)
		}
	}
	cn.rmu.Unlock()
	for _, r := range ended {
		cn.end(r, nil, true)
	}
	p := prepared{hdr: wireUnsubscribe(c.nextCID(), subID, true), allAcks: ackBits[AckProcessed]}
	_, err = cn.run(ctx, CmdUnsubscribe, &p, nil)
	return err
}
