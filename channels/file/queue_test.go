package file

import (
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

// TestQueueModel drives the chunked queue with random pushes and pops over
// a few segments (so chunks start, fill, empty and restart) and compares it
// with a slice after every step. Views frozen along the way are read by
// another goroutine while the queue keeps changing under the lock, as a
// checkpoint does, and must still show the queue as it was at freeze.
func TestQueueModel(t *testing.T) {
	for seed := range uint64(4) {
		rng := rand.New(rand.NewPCG(seed, 7))
		var (
			mu    sync.Mutex
			q     queue
			model []ptr
			next  = map[uint32]int64{}
			wg    sync.WaitGroup
		)
		readers := 0
		var read chan struct{}
		newPtr := func() ptr {
			seg := uint32(1 + rng.IntN(3))
			next[seg] += int64(1 + rng.IntN(200))
			return mkptr(seg, next[seg])
		}
		for step := range 3000 {
			mu.Lock()
			switch op := rng.IntN(100); {
			case op < 45:
				// Runs of pushes from one segment, as commits do.
				seg := uint32(1 + rng.IntN(3))
				n := 1 + rng.IntN(300)
				if rng.IntN(20) == 0 {
					n = maxChunk + rng.IntN(2*maxChunk)
				}
				for range n {
					next[seg] += 100
					p := mkptr(seg, next[seg])
					q.pushBack(p)
					model = append(model, p)
				}
			case op < 55:
				p := newPtr()
				q.pushFront(p)
				model = slices.Insert(model, 0, p)
			case op < 97:
				n := 1 + rng.IntN(600)
				if rng.IntN(10) == 0 {
					n = len(model) + 1 // drain, and pop an empty queue
				}
				for range n {
					p, ok := q.popFront()
					if ok != (len(model) > 0) || (ok && p != model[0]) {
						t.Fatalf("seed %d step %d: pop = %v,%v; want head of %d", seed, step, p, ok, len(model))
					}
					if ok {
						model = model[1:]
					}
				}
			default:
				if q.frozen {
					break
				}
				// The view stays frozen for many steps: the reader
				// goroutine reads it, and the loop thaws it at random once
				// the reader is done.
				v, want := q.freeze(), slices.Clone(model)
				readers++
				read = make(chan struct{})
				wg.Add(1)
				go func(done chan struct{}) {
					defer wg.Done()
					defer close(done)
					got := make([]ptr, 0, v.n)
					v.each(func(p ptr) { got = append(got, p) })
					if !slices.Equal(got, want) {
						t.Errorf("seed %d: frozen view changed: %d pointers, want %d", seed, len(got), len(want))
					}
				}(read)
			}
			if q.frozen && rng.IntN(50) == 0 {
				select {
				case <-read:
					q.thaw()
				default:
				}
			}
			if q.len() != len(model) {
				t.Fatalf("seed %d step %d: len %d, want %d", seed, step, q.len(), len(model))
			}
			if h, ok := q.peekFront(); ok != (len(model) > 0) || (ok && h != model[0]) {
				t.Fatalf("seed %d step %d: peek = %v,%v", seed, step, h, ok)
			}
			if step%97 == 0 && !slices.Equal(q.snapshot(), model) {
				t.Fatalf("seed %d step %d: snapshot differs from the model", seed, step)
			}
			mu.Unlock()
		}
		wg.Wait()
		if readers == 0 {
			t.Fatalf("seed %d: no view was taken", seed)
		}
	}
}

// TestQueueMemory: a queued event costs 4 bytes, not 8 and not a doubling.
func TestQueueMemory(t *testing.T) {
	var q queue
	const n = 1 << 20
	for i := range n {
		q.pushBack(mkptr(1, int64(16+i*100)))
	}
	var bytes int
	for _, ch := range q.chunks[q.first:] {
		bytes += 4 * len(ch.off)
	}
	if bytes > 4*n+4*maxChunk {
		t.Fatalf("%d events take %d bytes of chunks", n, bytes)
	}
}
