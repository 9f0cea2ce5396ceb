package file

import (
	"testing"
	"time"

	"ampsflume/flume"
	"ampsflume/flume/channeltest"
)

func TestConformance(t *testing.T) {
	channeltest.Run(t, func(t *testing.T, capacity, txCapacity int) flume.Channel {
		cfg := testConfig(t)
		cfg.Capacity, cfg.TransactionCapacity = capacity, txCapacity
		c, err := New("conformance", cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		return c
	})
}

// TestConformanceSmallSegments runs the suite with tiny segments and spills,
// so that rolling and early writes of large transactions are exercised.
func TestConformanceSmallSegments(t *testing.T) {
	channeltest.Run(t, func(t *testing.T, capacity, txCapacity int) flume.Channel {
		cfg := testConfig(t)
		cfg.Capacity, cfg.TransactionCapacity = capacity, txCapacity
		cfg.MaxFileSize = minMaxFileSize
		cfg.spillBytes = 64
		cfg.CheckpointInterval = 5e6 // 5 ms: checkpoints race with everything
		c, err := New("conformance", cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		return c
	})
}

// TestInterruptTakes: a sink being stopped does not wait out the keep-alive
// of its take.
func TestInterruptTakes(t *testing.T) {
	cfg := testConfig(t)
	cfg.KeepAlive = time.Hour
	c := mustStart(t, cfg)
	t.Cleanup(func() { mustStop(t, c) })
	channeltest.Interrupt(t, c)
}
