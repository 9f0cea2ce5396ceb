package file

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"testing"

	"ampsflume/flume"
)

// TestCheckpointUnderLoad takes checkpoints in a loop while a producer
// commits puts and a consumer takes, commits and rolls back (rollbacks put
// events back at the head, into chunks a checkpoint may still be reading),
// with small segments so that checkpoints also delete consumed ones. After
// a crash, the restarted channel must hold exactly the events put and not
// taken by a committed transaction, in order.
func TestCheckpointUnderLoad(t *testing.T) {
	cfg := testConfig(t)
	cfg.MaxFileSize = 64 << 10
	cfg.CheckpointOnClose = false
	cfg.Capacity = 100000
	c := mustStart(t, cfg)

	const batches, batch = 200, 25
	var (
		wg        sync.WaitGroup
		stop      = make(chan struct{})
		errs      = make(chan error, 3)
		taken     []int // by committed takes, in order
		ckpts     int
		producing = make(chan struct{})
	)
	wg.Add(3)
	go func() { // producer
		defer wg.Done()
		defer close(producing)
		for b := range batches {
			tx := c.NewTransaction()
			if err := tx.Begin(); err != nil {
				errs <- err
				return
			}
			for i := range batch {
				s := strconv.Itoa(b*batch + i)
				if err := tx.Put(flume.NewEvent([]byte(s), map[string]string{"k": s})); err != nil {
					errs <- err
					return
				}
			}
			if err := tx.Commit(); err != nil {
				errs <- err
				return
			}
			tx.Close()
		}
	}()
	go func() { // consumer
		defer wg.Done()
		rng := rand.New(rand.NewPCG(1, 2))
		for {
			select {
			case <-producing:
				return
			default:
			}
			tx := c.NewTransaction()
			if err := tx.Begin(); err != nil {
				errs <- err
				return
			}
			var got []int
			for range 1 + rng.IntN(40) {
				e, err := tx.Take()
				if err != nil {
					errs <- err
					return
				}
				if e == nil {
					break
				}
				n, err := strconv.Atoi(string(e.Body))
				if err != nil {
					errs <- fmt.Errorf("body %q: %w", e.Body, err)
					return
				}
				got = append(got, n)
			}
			if rng.IntN(3) == 0 {
				err := tx.Rollback()
				if err != nil {
					errs <- err
					return
				}
			} else {
				if err := tx.Commit(); err != nil {
					errs <- err
					return
				}
				taken = append(taken, got...)
			}
			tx.Close()
		}
	}()
	go func() { // checkpointer
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := c.checkpoint(); err != nil {
				errs <- err
				return
			}
			ckpts++
		}
	}()
	<-producing
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if ckpts == 0 {
		t.Fatal("no checkpoint was taken")
	}
	c.abandon()

	c = mustStart(t, cfg)
	defer mustStop(t, c)
	var left []int
	for _, s := range drainAll(t, c) {
		n, err := strconv.Atoi(s)
		requireNoError(t, err)
		left = append(left, n)
	}
	if !slices.IsSorted(taken) || !slices.IsSorted(left) {
		t.Fatalf("order lost: taken sorted %v, left sorted %v", slices.IsSorted(taken), slices.IsSorted(left))
	}
	all := slices.Concat(taken, left)
	slices.Sort(all)
	want := make([]int, batches*batch)
	for i := range want {
		want[i] = i
	}
	if !slices.Equal(all, want) {
		t.Fatalf("taken %d + left %d events, want each of %d exactly once (%d checkpoints); left starts %v",
			len(taken), len(left), len(want), ckpts, left[:min(len(left), 10)])
	}
	t.Logf("%d checkpoints, %d taken, %d left", ckpts, len(taken), len(left))
}
