package memory

import (
	"errors"
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
// default with a warning, an invalid value is an error naming the key; every
// invalid key is reported (joined), not only the first.
func ParseConfig(ctx *flume.Context) (Config, error) {
	cfg := DefaultConfig()
	var errs flume.ConfigErrors
	bad := map[string]bool{}
	read := func(key string, err error) {
		if errs.Add(err) {
			bad[key] = true
		}
	}
	var err error
	cfg.Capacity, err = ctx.Int("capacity", cfg.Capacity)
	read("capacity", err)
	cfg.TransactionCapacity, err = ctx.Int("transactionCapacity", cfg.TransactionCapacity)
	read("transactionCapacity", err)
	cfg.ByteCapacity, err = ctx.Int64("byteCapacity", cfg.ByteCapacity)
	read("byteCapacity", err)
	cfg.ByteCapacityBufferPercentage, err = ctx.Int("byteCapacityBufferPercentage", cfg.ByteCapacityBufferPercentage)
	read("byteCapacityBufferPercentage", err)
	cfg.KeepAlive, err = ctx.Duration("keep-alive", cfg.KeepAlive, time.Second)
	read("keep-alive", err)
	for _, e := range cfg.check(ctx.Errorf, bad) {
		errs.Add(e)
	}
	return cfg, errs.Err()
}

// Validate checks the configuration's values and reports every problem.
func (c Config) Validate() error {
	return errors.Join(c.check(func(key, format string, args ...any) error {
		return fmt.Errorf("memory channel: key %q: %s", key, fmt.Sprintf(format, args...))
	}, nil)...)
}

// check returns a problem per bad value. Keys in unparsed hold a default
// because what was written is not a number: checks that compare them with
// another key are skipped rather than reporting the default.
func (c Config) check(errorf func(key, format string, args ...any) error, unparsed map[string]bool) []error {
	var errs []error
	if c.Capacity < 1 {
		errs = append(errs, errorf("capacity", "%d: must be at least 1", c.Capacity))
	}
	if c.TransactionCapacity < 1 {
		errs = append(errs, errorf("transactionCapacity", "%d: must be at least 1", c.TransactionCapacity))
	} else if c.TransactionCapacity > c.Capacity && c.Capacity >= 1 && !unparsed["capacity"] && !unparsed["transactionCapacity"] {
		errs = append(errs, errorf("transactionCapacity", "%d is larger than capacity %d: lower it or raise capacity",
			c.TransactionCapacity, c.Capacity))
	}
	pctOK := c.ByteCapacityBufferPercentage >= 0 && c.ByteCapacityBufferPercentage <= 99
	if !pctOK {
		errs = append(errs, errorf("byteCapacityBufferPercentage", "%d: must be between 0 and 99", c.ByteCapacityBufferPercentage))
	}
	if c.ByteCapacity < 0 {
		errs = append(errs, errorf("byteCapacity", "%d: must not be negative (0 means unlimited)", c.ByteCapacity))
	} else if c.ByteCapacity > 0 && pctOK && !unparsed["byteCapacityBufferPercentage"] && c.byteSlots() == 0 {
		errs = append(errs, errorf("byteCapacity", "%d leaves no room for one event after the %d%% buffer: raise it to at least %d",
			c.ByteCapacity, c.ByteCapacityBufferPercentage, slotSize*100/(100-c.ByteCapacityBufferPercentage)+1))
	}
	if c.KeepAlive < 0 {
		errs = append(errs, errorf("keep-alive", "must not be negative"))
	}
	return errs
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
