package sql

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"ampsflume/flume"
)

// backend builds channels of one kind; every call with the same test returns
// a channel over the same storage, as a restarted agent would get.
type backend struct {
	name string
	cfg  func(t *testing.T) (name string, cfg Config)
}

func backends() []backend {
	return []backend{
		{"sqlite", func(t *testing.T) (string, Config) { return "c1", sqliteConfig(t) }},
		{"postgres", func(t *testing.T) (string, Config) {
			url := postgresURL(t)
			return postgresChannelName(t, url), postgresConfig(t, url)
		}},
	}
}

func mustStart(t *testing.T, name string, cfg Config) *Channel {
	t.Helper()
	c, err := New(name, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = c.Stop() })
	return c
}

func mustBegin(t *testing.T, c flume.Channel) flume.Transaction {
	t.Helper()
	tx := c.NewTransaction()
	if err := tx.Begin(); err != nil {
		t.Fatalf("Begin: %v", err)
	}
	return tx
}

func commitPuts(t *testing.T, c flume.Channel, bodies ...string) {
	t.Helper()
	tx := mustBegin(t, c)
	for _, b := range bodies {
		if err := tx.Put(flume.NewEvent([]byte(b), map[string]string{"n": b})); err != nil {
			t.Fatalf("Put: %v", err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	_ = tx.Close()
}

// drainAll takes and commits in batches until the channel is empty.
func drainAll(t *testing.T, c flume.Channel) []string {
	t.Helper()
	var out []string
	for {
		tx := mustBegin(t, c)
		n := 0
		for range 10 {
			e, err := tx.Take()
			if err != nil {
				t.Fatalf("Take: %v", err)
			}
			if e == nil {
				break
			}
			if e.Headers["n"] != string(e.Body) {
				t.Fatalf("event %q has headers %v", e.Body, e.Headers)
			}
			out = append(out, string(e.Body))
			n++
		}
		if err := tx.Commit(); err != nil {
			t.Fatalf("Commit: %v", err)
		}
		_ = tx.Close()
		if n == 0 {
			return out
		}
	}
}

func seqBodies(from, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = strconv.Itoa(from + i)
	}
	return out
}

// TestRestartKeepsCommitted stops a channel with a put and a take in flight:
// what was committed is all there after a restart, in order, including the
// events whose take was not committed; the uncommitted put is not.
func TestRestartKeepsCommitted(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			name, cfg := b.cfg(t)
			c := mustStart(t, name, cfg)
			commitPuts(t, c, seqBodies(0, 5)...)
			commitPuts(t, c, seqBodies(5, 5)...)

			taker := mustBegin(t, c)
			for range 3 {
				if e, err := taker.Take(); err != nil || e == nil {
					t.Fatalf("Take = %v, %v", e, err)
				}
			}
			putter := mustBegin(t, c)
			if err := putter.Put(flume.NewEvent([]byte("uncommitted"), nil)); err != nil {
				t.Fatal(err)
			}
			if err := c.Stop(); err != nil {
				t.Fatalf("Stop: %v", err)
			}
			_ = taker.Close()
			_ = putter.Close()

			c2 := mustStart(t, name, cfg)
			if n := c2.Size(); n != 10 {
				t.Fatalf("Size after restart = %d, want 10", n)
			}
			if got, want := drainAll(t, c2), seqBodies(0, 10); strings.Join(got, ",") != strings.Join(want, ",") {
				t.Fatalf("after restart: got %v, want %v", got, want)
			}
			// Ids keep growing across restarts: new events go behind.
			commitPuts(t, c2, "x")
			if err := c2.Stop(); err != nil {
				t.Fatal(err)
			}
			c3 := mustStart(t, name, cfg)
			commitPuts(t, c3, "y")
			if got := drainAll(t, c3); strings.Join(got, ",") != "x,y" {
				t.Fatalf("after second restart: got %v, want [x y]", got)
			}
		})
	}
}

// TestStartAfterStop reuses one Channel value across Stop and Start, as an
// embedder may.
func TestStartAfterStop(t *testing.T) {
	cfg := sqliteConfig(t)
	c := mustStart(t, "c1", cfg)
	commitPuts(t, c, "a", "b")
	stale := mustBegin(t, c)
	if e, err := stale.Take(); err != nil || e == nil {
		t.Fatalf("Take = %v, %v", e, err)
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	// A transaction of the previous run cannot touch the reopened store.
	if err := stale.Commit(); err == nil {
		t.Fatal("commit of a transaction begun before Stop succeeded")
	}
	_ = stale.Close()
	if got := drainAll(t, c); strings.Join(got, ",") != "a,b" {
		t.Fatalf("got %v, want [a b]", got)
	}
}

func TestSQLiteFileIsExclusive(t *testing.T) {
	cfg := sqliteConfig(t)
	mustStart(t, "c1", cfg)
	other, err := New("c2", cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = other.Start(context.Background())
	if err == nil {
		_ = other.Stop()
		t.Fatal("a second channel opened the same SQLite file")
	}
	if !strings.Contains(err.Error(), "in use") {
		t.Fatalf("error does not say the file is in use: %v", err)
	}
}

func TestCreateSchemaFalse(t *testing.T) {
	for _, b := range backends()[:1] {
		name, cfg := b.cfg(t)
		cfg.CreateSchema = false
		c, err := New(name, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "create.schema") {
			_ = c.Stop()
			t.Fatalf("Start on an empty database without create.schema: %v", err)
		}
	}
}

// TestPostgresSharedByTwoAgents drains one PostgreSQL channel through two
// Channel values, as two agents configured with the same channel would:
// SKIP LOCKED hands each event to exactly one of them.
func TestPostgresSharedByTwoAgents(t *testing.T) {
	url := postgresURL(t)
	name, cfg := postgresChannelName(t, url), postgresConfig(t, url)
	a, b := mustStart(t, name, cfg), mustStart(t, name, cfg)
	const total = 300
	for i := 0; i < total; i += 30 {
		commitPuts(t, a, seqBodies(i, 30)...)
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i, c := range []*Channel{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := 0; ; round++ {
				tx := c.NewTransaction()
				if err := tx.Begin(); err != nil {
					errs <- err
					return
				}
				var got []string
				for range 7 {
					e, err := tx.Take()
					if err != nil {
						errs <- err
						return
					}
					if e == nil {
						break
					}
					got = append(got, string(e.Body))
				}
				if len(got) == 0 {
					_ = tx.Commit()
					_ = tx.Close()
					return
				}
				if (round+i)%4 == 3 {
					_ = tx.Rollback()
					_ = tx.Close()
					continue
				}
				if err := tx.Commit(); err != nil {
					errs <- fmt.Errorf("commit: %w", err)
					return
				}
				_ = tx.Close()
				mu.Lock()
				for _, g := range got {
					seen[g]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i := range total {
		if n := seen[strconv.Itoa(i)]; n != 1 {
			t.Errorf("event %d delivered %d times", i, n)
		}
	}
	if a.Size() != 0 {
		t.Fatalf("Size = %d after draining", a.Size())
	}
}
