package sql

import (
	"context"
	dbsql "database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"ampsflume/flume"
	"ampsflume/flume/channeltest"
)

// testKeepAlive keeps the suite's empty takes and full commits short.
const testKeepAlive = 200 * time.Millisecond

func sqliteConfig(t *testing.T) Config {
	cfg := DefaultConfig("test")
	cfg.Path = filepath.Join(t.TempDir(), "channel.sqlite")
	cfg.KeepAlive = testKeepAlive
	return cfg
}

func TestConformanceSQLite(t *testing.T) {
	channeltest.Run(t, func(t *testing.T, capacity, txCapacity int) flume.Channel {
		cfg := sqliteConfig(t)
		cfg.Capacity, cfg.TransactionCapacity = capacity, txCapacity
		c, err := New("conformance", cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		return c
	})
}

// postgresEnv names the variable holding the URL of a PostgreSQL database
// the tests may create tables in.
const postgresEnv = "AMPSFLUME_TEST_POSTGRES_URL"

// postgresURL returns the test database's URL. Without one the PostgreSQL
// tests fail in CI, where the database is part of the set-up, and are
// skipped elsewhere.
func postgresURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv(postgresEnv)
	if u == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set but CI is: run .ci/postgres.sh and export the URL it prints", postgresEnv)
		}
		t.Skipf("!!! PostgreSQL tests NOT RUN: set %s (for example with the line .ci/postgres.sh prints) to run them !!!", postgresEnv)
	}
	return u
}

var pgChannelSeq atomic.Int64

// postgresChannelName returns a channel name no earlier run used, and removes
// the channel's rows when the test ends.
func postgresChannelName(t *testing.T, url string) string {
	t.Helper()
	name := fmt.Sprintf("test-%d-%d-%d", os.Getpid(), time.Now().UnixNano(), pgChannelSeq.Add(1))
	t.Cleanup(func() {
		db, err := dbsql.Open("pgx", url)
		if err != nil {
			t.Errorf("cleanup: %v", err)
			return
		}
		defer db.Close()
		ctx := context.Background()
		if _, err := db.ExecContext(ctx, `DELETE FROM flume_event WHERE channel = $1`, name); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		if _, err := db.ExecContext(ctx, `DELETE FROM flume_channel WHERE name = $1`, name); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	return name
}

func postgresConfig(t *testing.T, url string) Config {
	cfg := DefaultConfig("test")
	cfg.Backend, cfg.URL = BackendPostgres, url
	cfg.KeepAlive = testKeepAlive
	cfg.PollInterval = 20 * time.Millisecond
	return cfg
}

func TestConformancePostgres(t *testing.T) {
	url := postgresURL(t)
	channeltest.Run(t, func(t *testing.T, capacity, txCapacity int) flume.Channel {
		cfg := postgresConfig(t, url)
		cfg.Capacity, cfg.TransactionCapacity = capacity, txCapacity
		c, err := New(postgresChannelName(t, url), cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		return c
	})
}

// startSQLite starts a SQLite channel with the given keep-alive, stopped when
// the test ends.
func startSQLite(t *testing.T, keepAlive time.Duration) *Channel {
	t.Helper()
	cfg := sqliteConfig(t)
	cfg.KeepAlive = keepAlive
	c, err := New("c1", cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Stop() })
	return c
}

// TestInterruptTakes: a sink being stopped does not wait out the keep-alive
// of its take.
func TestInterruptTakes(t *testing.T) {
	channeltest.Interrupt(t, startSQLite(t, time.Hour))
}

// A sink taking a batch must not be held up waiting for it to fill: once a
// transaction holds an event, Take on an empty channel returns at once even
// with a keep-alive far longer than the test's own deadline.
func TestPartialBatchDoesNotWait(t *testing.T) {
	c := startSQLite(t, time.Hour)
	put := c.NewTransaction()
	if err := put.Begin(); err != nil {
		t.Fatal(err)
	}
	if err := put.Put(flume.NewEvent([]byte("only"), nil)); err != nil {
		t.Fatal(err)
	}
	if err := put.Commit(); err != nil {
		t.Fatal(err)
	}
	_ = put.Close()

	tx := c.NewTransaction()
	if err := tx.Begin(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tx.Close() })
	if e, err := tx.Take(); err != nil || e == nil {
		t.Fatalf("first Take = (%v, %v), want the event", e, err)
	}
	done := make(chan struct{})
	var e *flume.Event
	var err error
	go func() { defer close(done); e, err = tx.Take() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("second Take waited for the keep-alive instead of returning the partial batch")
	}
	if e != nil || err != nil {
		t.Fatalf("second Take = (%v, %v), want (nil, nil)", e, err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}
