package flume

import (
	"errors"
	"fmt"
	"strings"
)

// CheckBatch refuses a sink's batch size that is larger than the
// transactionCapacity of the channel the sink drains: every take of a full
// batch would fail, so the sink would never commit. Sinks whose spec marks
// the key ChannelChecked call it from their factory, because they are handed
// the built channel and see its real limit (the configuration checker then
// leaves the key alone, so the problem is reported once).
//
// key is the batch-size key as the sink names it, batch the value the sink
// parsed, and parseErr what parsing the sink's keys returned: when it already
// holds an error about key, batch is the key's default, the user has been
// told, and CheckBatch returns nil. It returns nil as well when there is no
// channel or its transactionCapacity is unknown (not positive).
//
// The error is a *ConfigError at the key's line (at the sink's declaration
// when the key is unset, with "defaults to" instead of "is"), naming the
// sink, the key, both numbers and the channel, e.g.
//
//	flume.conf:12: sink "k1": key "batchSize": is 500, more than the
//	transactionCapacity 100 of channel "c1"; every transaction would fail:
//	lower batchSize or raise that transactionCapacity
//
// (on one line), worded as the configuration checker words the same problem
// for components that do not check it themselves.
func (e SinkEnv) CheckBatch(key string, batch int, parseErr error) error {
	if KeyFailed(parseErr, key) || e.Channel == nil || e.Config == nil {
		return nil
	}
	txCap := e.Channel.TransactionCapacity()
	if txCap <= 0 || batch <= txCap {
		return nil
	}
	how := "is"
	if !e.Config.Has(key) {
		how = "defaults to"
	}
	channel := "the sink's channel"
	if name := strings.TrimSpace(e.Config.String("channel", "")); name != "" {
		channel = fmt.Sprintf("channel %q", name)
	}
	err := e.Config.Errorf(key, "%s %d, more than the transactionCapacity %d of %s; every transaction would fail: lower %s or raise that transactionCapacity",
		how, batch, txCap, channel, key)
	// A Context built outside the engine may not describe its component;
	// the message still names the sink.
	var ce *ConfigError
	if errors.As(err, &ce) && ce.Component == "" && e.Name != "" {
		ce.Component = fmt.Sprintf("sink %q", e.Name)
	}
	return err
}
