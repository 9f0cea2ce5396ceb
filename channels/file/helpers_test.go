package file

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"ampsflume/flume"
)

// testConfig returns a config in fresh temporary directories with a short
// keep-alive, no periodic checkpoints and a probe that reports plenty of
// free space.
func testConfig(t *testing.T) Config {
	t.Helper()
	dir := t.TempDir()
	cfg := DefaultConfig()
	cfg.CheckpointDir = filepath.Join(dir, "checkpoint")
	cfg.DataDirs = []string{filepath.Join(dir, "data")}
	cfg.Capacity = 10000
	cfg.TransactionCapacity = 1000
	cfg.KeepAlive = 20 * time.Millisecond
	cfg.CheckpointInterval = 0
	cfg.FreeSpace = func(string) (uint64, error) { return 1 << 40, nil }
	return cfg
}

func mustStart(t *testing.T, cfg Config) *Channel {
	t.Helper()
	c, err := New("c1", cfg, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	return c
}

func mustStop(t *testing.T, c *Channel) {
	t.Helper()
	if err := c.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
}

func putBatch(t *testing.T, c *Channel, bodies ...string) {
	t.Helper()
	if err := tryPut(c, bodies...); err != nil {
		t.Fatalf("put %v: %v", bodies, err)
	}
}

func tryPut(c *Channel, bodies ...string) error {
	tx := c.NewTransaction()
	if err := tx.Begin(); err != nil {
		return err
	}
	defer tx.Close()
	for _, b := range bodies {
		if err := tx.Put(flume.NewEvent([]byte(b), map[string]string{"k": b})); err != nil {
			_ = tx.Rollback()
			return err
		}
	}
	return tx.Commit()
}

// takeBatch takes up to n events and commits (or rolls back).
func takeBatch(t *testing.T, c *Channel, n int, commit bool) []string {
	t.Helper()
	tx := c.NewTransaction()
	if err := tx.Begin(); err != nil {
		t.Fatalf("Begin: %v", err)
	}
	defer tx.Close()
	var out []string
	for range n {
		e, err := tx.Take()
		if err != nil {
			t.Fatalf("Take: %v", err)
		}
		if e == nil {
			break
		}
		if e.Headers["k"] != string(e.Body) {
			t.Fatalf("headers %v do not match body %q", e.Headers, e.Body)
		}
		out = append(out, string(e.Body))
	}
	var err error
	if commit {
		err = tx.Commit()
	} else {
		err = tx.Rollback()
	}
	if err != nil {
		t.Fatalf("end transaction: %v", err)
	}
	return out
}

func drainAll(t *testing.T, c *Channel) []string {
	t.Helper()
	var out []string
	for {
		b := takeBatch(t, c, 100, true)
		if len(b) == 0 {
			return out
		}
		out = append(out, b...)
	}
}

func seq(prefix string, from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("%s%d", prefix, i))
	}
	return out
}

func requireEqual[T comparable](t *testing.T, what string, got, want []T) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d items %v, want %d items %v", what, len(got), got, len(want), want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: item %d is %v, want %v (got %v)", what, i, got[i], want[i], got)
		}
	}
}

func requireNoError(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func requireIs(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("err = %v, want %v", err, target)
	}
}
