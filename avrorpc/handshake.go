package avrorpc

import (
	"encoding/json"
	"fmt"
)

// The handshake opens every stateful Avro RPC connection: the first request
// carries a HandshakeRequest before the call, the first response a
// HandshakeResponse before the result. Once both sides know each other's
// protocol the connection is established and later frames carry calls only.

// Handshake match values.
const (
	matchBoth   = "BOTH"   // the server knows both protocols
	matchClient = "CLIENT" // the server knows the client's protocol; the client guessed the server's hash wrong
	matchNone   = "NONE"   // the server does not know the client's protocol: resend with its text
)

type handshakeRequest struct {
	ClientHash     [16]byte `avro:"clientHash"`
	ClientProtocol *string  `avro:"clientProtocol"`
	ServerHash     [16]byte `avro:"serverHash"`
	Meta           any      `avro:"meta"` // null or map<bytes>; unused by Flume
}

type handshakeResponse struct {
	Match          string    `avro:"match"`
	ServerProtocol *string   `avro:"serverProtocol"`
	ServerHash     *[16]byte `avro:"serverHash"`
	Meta           any       `avro:"meta"` // null or map<bytes>; unused by Flume
}

// checkProtocol accepts a peer's protocol text when it is Flume's
// AvroSourceProtocol with the messages this package speaks. Field-level
// schema resolution is not implemented: Flume has never changed these
// messages, so a matching name and message set is taken as compatible.
func checkProtocol(text string) error {
	var p struct {
		Protocol string                     `json:"protocol"`
		Messages map[string]json.RawMessage `json:"messages"`
	}
	if err := json.Unmarshal([]byte(text), &p); err != nil {
		return fmt.Errorf("client protocol is not valid JSON: %w", err)
	}
	if p.Protocol != "AvroSourceProtocol" {
		return fmt.Errorf("client protocol %q is not AvroSourceProtocol", p.Protocol)
	}
	for _, m := range []string{"append", "appendBatch"} {
		if _, ok := p.Messages[m]; !ok {
			return fmt.Errorf("client protocol lacks message %q", m)
		}
	}
	return nil
}
