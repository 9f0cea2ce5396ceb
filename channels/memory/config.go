package memory

import (
	"fmt"
	"math"
	"runtime/debug"
	"strconv"
	"time"

	"ampsflume/flume"
)

// Defaults, as in Flume.
const (
	DefaultCapacity                     = 100
	DefaultTransactionCapacity          = 100
	DefaultByteCapacityBufferPercentage = 20
	DefaultKeepAlive                    = 3 * time.Second

	// slotSize is the unit of byte accounting: an event body uses
	// ceil(len/slotSize) slots, at least one.
	slotSize = 100
)

// Spec declares the channel's type names and keys.
var Spec = flume.Spec{
	Alias: "memory",
	Class: "org.apache.flume.channel.MemoryChannel",
	Doc: "Bounded in-memory FIFO queue. Fast; events are lost if the process dies. " +
		"Queued events survive a configuration reload.",
	Keys: []flume.Key{
		{Name: "type", Type: "string", Required: true, Doc: "memory or org.apache.flume.channel.MemoryChannel"},
		{Name: "capacity", Type: "int", Default: strconv.Itoa(DefaultCapacity),
			Doc: "Maximum number of events in the channel, counting events taken by open transactions."},
		{Name: "transactionCapacity", Type: "int", Default: strconv.Itoa(DefaultTransactionCapacity),
			Doc: "Maximum number of events one transaction may put or take; must not exceed capacity, and source and sink batch sizes must not exceed it."},
		{Name: "byteCapacity", Type: "int(bytes)", Default: "80% of GOMEMLIMIT, or unlimited",
			Doc: "Limit on the total size of the event bodies (headers are not counted); 0 means unlimited."},
		{Name: "byteCapacityBufferPercentage", Type: "int", Default: strconv.Itoa(DefaultByteCapacityBufferPercentage),
			Doc: "Percentage of byteCapacity kept free as an allowance for headers, between 0 and 99."},
		{Name: "keep-alive", Type: "duration(s)", Default: "3",
			Doc: "Seconds a take waits for an event, and a commit waits for room, before giving up."},
	},
}

// Config is the channel's configuration.
type Config struct {
	Capacity            int
	TransactionCapacity int
	// ByteCapacity limits the bodies' total size in bytes; 0 is unlimited.
	ByteCapacity int64
	// ByteCapacityBufferPercentage of ByteCapacity is held back for headers.
	ByteCapacityBufferPercentage int
	// KeepAlive bounds how long Take waits for an event and Commit for room.
	KeepAlive time.Duration
}

// DefaultConfig returns Flume's defaults. ByteCapacity is 80% of the Go
// memory limit (GOMEMLIMIT) when one is set, the way Flume takes 80% of the
// JVM heap, and unlimited otherwise.
func DefaultConfig() Config {
	byteCap := int64(0)
	if lim := debug.SetMemoryLimit(-1); lim > 0 && lim < math.MaxInt64 {
		byteCap = lim / 10 * 8
	}
	return Config{
		Capacity:                     DefaultCapacity,
		TransactionCapacity:          DefaultTransactionCapacity,
		ByteCapacity:                 byteCap,
		ByteCapacityBufferPercentage: DefaultByteCapacityBufferPercentage,
		KeepAlive:                    DefaultKeepAlive,
	}
}

// ParseConfig reads the channel's keys. Unlike Flume, which falls back to a
// default with a warning, an invalid value is an error naming the key.
func ParseConfig(ctx *flume.Context) (Config, error) {
	cfg := DefaultConfig()
	var err error
	if cfg.Capacity, err = ctx.Int("capacity", cfg.Capacity); err != nil {
		return cfg, err
	}
	if cfg.TransactionCapacity, err = ctx.Int("transactionCapacity", cfg.TransactionCapacity); err != nil {
		return cfg, err
	}
	if cfg.ByteCapacity, err = ctx.Int64("byteCapacity", cfg.ByteCapacity); err != nil {
		return cfg, err
	}
	if cfg.ByteCapacityBufferPercentage, err = ctx.Int("byteCapacityBufferPercentage", cfg.ByteCapacityBufferPercentage); err != nil {
		return cfg, err
	}
	if cfg.KeepAlive, err = ctx.Duration("keep-alive", cfg.KeepAlive, time.Second); err != nil {
		return cfg, err
	}
	return cfg, cfg.check(ctx.Errorf)
}

// Validate checks the configuration's values.
func (c Config) Validate() error {
	return c.check(func(key, format string, args ...any) error {
		return fmt.Errorf("memory channel: key %q: %s", key, fmt.Sprintf(format, args...))
	})
}

func (c Config) check(errorf func(key, format string, args ...any) error) error {
	switch {
	case c.Capacity < 1:
		return errorf("capacity", "%d: must be at least 1", c.Capacity)
	case c.TransactionCapacity < 1:
		return errorf("transactionCapacity", "%d: must be at least 1", c.TransactionCapacity)
	case c.TransactionCapacity > c.Capacity:
		return errorf("transactionCapacity", "%d is larger than capacity %d: lower it or raise capacity",
			c.TransactionCapacity, c.Capacity)
	case c.ByteCapacity < 0:
		return errorf("byteCapacity", "%d: must not be negative (0 means unlimited)", c.ByteCapacity)
	case c.ByteCapacityBufferPercentage < 0 || c.ByteCapacityBufferPercentage > 99:
		return errorf("byteCapacityBufferPercentage", "%d: must be between 0 and 99", c.ByteCapacityBufferPercentage)
	case c.KeepAlive < 0:
		return errorf("keep-alive", "must not be negative")
	case c.ByteCapacity > 0 && c.byteSlots() == 0:
		return errorf("byteCapacity", "%d leaves no room for one event after the %d%% buffer: raise it to at least %d",
			c.ByteCapacity, c.ByteCapacityBufferPercentage, slotSize*100/(100-c.ByteCapacityBufferPercentage)+1)
	}
	return nil
}

// byteSlots is the number of 100-byte body slots; 0 means unlimited when
// ByteCapacity is 0.
func (c Config) byteSlots() int64 {
	if c.ByteCapacity == 0 {
		return 0
	}
	usable := c.ByteCapacity / 100 * int64(100-c.ByteCapacityBufferPercentage)
	usable += c.ByteCapacity % 100 * int64(100-c.ByteCapacityBufferPercentage) / 100
	return usable / slotSize
}

// slots is the number of byte slots an event body uses.
func slots(e *flume.Event) int64 {
	n := int64(len(e.Body)+slotSize-1) / slotSize
	return max(n, 1)
}
