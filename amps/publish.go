package amps

import (
	"fmt"
)

// Publish sends data to topic. It does not wait for the server: use Flush
// to know that earlier publishes were processed. It blocks only while more
// than a few megabytes wait to be written to the socket.
func (c *Client) Publish(topic string, data []byte) error {
	return c.publish(CmdPublish, topic, data)
}

// DeltaPublish sends data as a delta_publish: the server merges the given
// fields into the SOW record with the same key.
func (c *Client) DeltaPublish(topic string, data []byte) error {
	return c.publish(CmdDeltaPublish, topic, data)
}

func (c *Client) publish(name, topic string, data []byte) error {
	if topic == "" {
		return fmt.Errorf("amps: %s: empty topic", name)
	}
	cn, err := c.current()
	if err != nil {
		return fmt.Errorf("amps: %s: %w", name, err)
	}
	// What prepare builds for a publish without acks, written without its
	// general-purpose work: this is the hot path of every publisher.
	cmd := name
	if name == CmdPublish {
		cmd = "p"
	}
	if err := cn.sendPublish(cmd, c.cidSeq.Add(1), topic, data); err != nil {
		return fmt.Errorf("amps: %s: %w", name, err)
	}
	return nil
}
