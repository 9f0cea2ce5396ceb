package file

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"ampsflume/flume"
)

// peekAll returns the bodies of the queued events without taking them.
func (c *Channel) peekAll() ([]string, error) {
	c.mu.Lock()
	ptrs := c.q.snapshot()
	c.mu.Unlock()
	out := make([]string, 0, len(ptrs))
	for _, p := range ptrs {
		e, err := c.w.read(p)
		if err != nil {
			return nil, err
		}
		out = append(out, string(e.Body))
	}
	return out, nil
}

// TestMetamorphic drives the channel over the fault-injecting filesystem
// with random sequences of puts, takes, rollbacks, checkpoints, clean
// restarts and crashes, and checks it against a model: a plain slice of the
// committed events. A commit that returns nil must survive anything; one
// that fails while the channel stays healthy must leave no trace; one that
// fails and leaves the channel unhealthy (a failed fsync) is uncertain until
// the restart that follows settles it.
func TestMetamorphic(t *testing.T) {
	seeds := 24
	if testing.Short() {
		seeds = 6
	}
	for seed := range uint64(seeds) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { runMetamorphic(t, seed, 250) })
	}
}

type metaRun struct {
	t     *testing.T
	rng   *rand.Rand
	fs    *memFS
	cfg   Config
	c     *Channel
	model []string
	next  int
	// Events whose commit outcome is unknown until the next restart.
	maybePut   map[string]bool
	maybeTaken map[string]bool
	log        []string
}

func (r *metaRun) fatalf(format string, args ...any) {
	r.t.Helper()
	tail := r.log[max(0, len(r.log)-25):]
	r.t.Fatalf("%s\nlast operations:\n  %s", fmt.Sprintf(format, args...), strings.Join(tail, "\n  "))
}

func runMetamorphic(t *testing.T, seed uint64, ops int) {
	r := &metaRun{t: t, rng: rand.New(rand.NewPCG(seed, 7)), fs: newMemFS(seed),
		maybePut: map[string]bool{}, maybeTaken: map[string]bool{}}
	cfg := DefaultConfig()
	cfg.CheckpointDir = "/ch/checkpoint"
	cfg.DataDirs = []string{"/ch/data1", "/ch/data2"}
	cfg.Capacity, cfg.TransactionCapacity = 40, 8
	cfg.KeepAlive = 0
	cfg.CheckpointInterval = 0
	cfg.MaxFileSize = minMaxFileSize
	cfg.spillBytes = 200 + r.rng.IntN(600)
	cfg.fs = r.fs
	r.cfg = cfg
	r.open()
	defer func() {
		if r.c != nil {
			r.c.abandon()
		}
	}()
	for i := 0; i < ops; i++ {
		faulty := r.rng.IntN(6) == 0
		if faulty {
			r.fs.setFaults(0.3)
		}
		switch k := r.rng.IntN(100); {
		case k < 35:
			r.put(1+r.rng.IntN(8), r.rng.IntN(5) != 0)
		case k < 70:
			r.take(1+r.rng.IntN(8), r.rng.IntN(4) != 0)
		case k < 78:
			r.mixed()
		case k < 85:
			r.log = append(r.log, "checkpoint")
			_ = r.c.checkpoint()
		case k < 92:
			r.log = append(r.log, "crash")
			r.fs.setFaults(0)
			r.crash()
		default:
			r.log = append(r.log, "restart")
			r.fs.setFaults(0)
			if err := r.c.Stop(); err != nil {
				r.log = append(r.log, "stop error: "+err.Error())
			}
			r.c = nil
			r.open()
		}
		r.fs.setFaults(0)
		r.c.mu.Lock()
		unhealthy := r.c.healthLocked() != nil
		r.c.mu.Unlock()
		if unhealthy {
			r.log = append(r.log, "unhealthy: crash and reopen")
			r.crash()
		}
		if len(r.maybePut) == 0 && len(r.maybeTaken) == 0 && r.c.Size() != len(r.model) {
			r.fatalf("Size() = %d, model has %d", r.c.Size(), len(r.model))
		}
	}
	r.crash()
	got, err := r.c.peekAll()
	if err != nil {
		r.fatalf("peek: %v", err)
	}
	if !slices.Equal(got, r.model) {
		r.fatalf("final contents %v, model %v", got, r.model)
	}
}

// open starts the channel; injected faults are off, so it must succeed.
func (r *metaRun) open() {
	r.t.Helper()
	c, err := New("meta", r.cfg, nil)
	if err != nil {
		r.fatalf("New: %v", err)
	}
	if err := c.Start(context.Background()); err != nil {
		r.fatalf("Start: %v", err)
	}
	r.c = c
	r.settle()
}

func (r *metaRun) crash() {
	r.c.abandon()
	r.fs.crash()
	r.c = nil
	r.open()
}

// settle compares the reopened channel with the model, resolving the
// uncertain commits by what the log says.
func (r *metaRun) settle() {
	r.t.Helper()
	got, err := r.c.peekAll()
	if err != nil {
		r.fatalf("peek after open: %v", err)
	}
	// Every certain event is there, in order; uncertain ones may be.
	i := 0
	for _, g := range got {
		for i < len(r.model) && r.model[i] != g && r.maybeTaken[r.model[i]] {
			i++
		}
		if i < len(r.model) && r.model[i] == g {
			i++
			continue
		}
		if !r.maybePut[g] {
			r.fatalf("after restart: unexpected event %q; got %v, model %v", g, got, r.model)
		}
	}
	for ; i < len(r.model); i++ {
		if !r.maybeTaken[r.model[i]] {
			r.fatalf("after restart: committed event %q lost; got %v, model %v", r.model[i], got, r.model)
		}
	}
	r.model = got
	clear(r.maybePut)
	clear(r.maybeTaken)
}

func (r *metaRun) unhealthy() bool {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	return r.c.healthLocked() != nil
}

func (r *metaRun) put(n int, commit bool) {
	tx := r.c.NewTransaction()
	if err := tx.Begin(); err != nil {
		r.log = append(r.log, "begin: "+err.Error())
		return
	}
	defer tx.Close()
	var staged []string
	for range n {
		b := fmt.Sprintf("e%d", r.next)
		r.next++
		if err := tx.Put(flume.NewEvent([]byte(b), map[string]string{"n": b})); err != nil {
			r.log = append(r.log, fmt.Sprintf("put %s: %v", b, err))
			_ = tx.Rollback()
			return
		}
		staged = append(staged, b)
	}
	if !commit {
		r.log = append(r.log, fmt.Sprintf("put %v rollback", staged))
		if err := tx.Rollback(); err != nil {
			r.fatalf("rollback: %v", err)
		}
		return
	}
	err := tx.Commit()
	r.log = append(r.log, fmt.Sprintf("put %v commit: %v", staged, err))
	switch {
	case err == nil:
		r.model = append(r.model, staged...)
	case r.unhealthy():
		for _, b := range staged {
			r.maybePut[b] = true
		}
	case errors.Is(err, flume.ErrChannelFull) || errors.Is(err, errInjected):
		// Cleanly refused: nothing of it may survive.
	default:
		r.fatalf("commit: %v", err)
	}
}

func (r *metaRun) take(n int, commit bool) {
	tx := r.c.NewTransaction()
	if err := tx.Begin(); err != nil {
		r.log = append(r.log, "begin: "+err.Error())
		return
	}
	defer tx.Close()
	var got []string
	for range n {
		e, err := tx.Take()
		if err != nil {
			r.log = append(r.log, "take: "+err.Error())
			break
		}
		if e == nil {
			break
		}
		if e.Headers["n"] != string(e.Body) {
			r.fatalf("event %q has headers %v", e.Body, e.Headers)
		}
		got = append(got, string(e.Body))
	}
	if len(r.maybePut) == 0 && len(r.maybeTaken) == 0 {
		if !slices.Equal(got, r.model[:len(got)]) {
			r.fatalf("took %v, model head %v", got, r.model[:min(len(r.model), len(got))])
		}
	}
	if !commit {
		r.log = append(r.log, fmt.Sprintf("take %v rollback", got))
		if err := tx.Rollback(); err != nil {
			r.fatalf("rollback: %v", err)
		}
		return
	}
	err := tx.Commit()
	r.log = append(r.log, fmt.Sprintf("take %v commit: %v", got, err))
	switch {
	case err == nil:
		r.model = r.model[len(got):]
	case r.unhealthy():
		for _, b := range got {
			r.maybeTaken[b] = true
		}
	default:
		// Refused and rolled back: the events are back at the head.
	}
}

// mixed takes one event and puts one in the same transaction.
func (r *metaRun) mixed() {
	tx := r.c.NewTransaction()
	if err := tx.Begin(); err != nil {
		return
	}
	defer tx.Close()
	e, err := tx.Take()
	if err != nil || e == nil {
		_ = tx.Rollback()
		return
	}
	b := fmt.Sprintf("e%d", r.next)
	r.next++
	if err := tx.Put(flume.NewEvent([]byte(b), map[string]string{"n": b})); err != nil {
		_ = tx.Rollback()
		return
	}
	err = tx.Commit()
	r.log = append(r.log, fmt.Sprintf("mixed take %s put %s: %v", e.Body, b, err))
	switch {
	case err == nil:
		if r.model[0] != string(e.Body) {
			r.fatalf("mixed took %s, model head %s", e.Body, r.model[0])
		}
		r.model = append(r.model[1:], b)
	case r.unhealthy():
		r.maybePut[b] = true
		r.maybeTaken[string(e.Body)] = true
	}
}
