package sql

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestIDQueueModel checks the queue against a sorted set under random pops,
// pushes of new (larger) ids and give-backs of popped ids.
func TestIDQueueModel(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var q idQueue
	var model []int64 // sorted ids in the queue
	var out []int64   // popped, not yet given back
	next := int64(1)
	for step := range 20000 {
		switch op := r.IntN(10); {
		case op < 4:
			id, ok := q.pop()
			if ok != (len(model) > 0) || ok && id != model[0] {
				t.Fatalf("step %d: pop = %d, %v; model head %v", step, id, ok, model[:min(1, len(model))])
			}
			if ok {
				model = model[1:]
				out = append(out, id)
			}
		case op < 7:
			n := r.IntN(5)
			ids := make([]int64, n)
			for i := range ids {
				ids[i] = next
				next++
			}
			q.push(ids)
			model = append(model, ids...)
		default:
			if len(out) == 0 {
				continue
			}
			r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
			n := 1 + r.IntN(len(out))
			back := out[:n]
			q.giveBack(back)
			model = append(model, back...)
			slices.Sort(model)
			out = slices.Clone(out[n:])
		}
		if q.len() != len(model) || !slices.Equal(q.ids[q.head:], model) {
			t.Fatalf("step %d: queue %v, model %v", step, q.ids[q.head:], model)
		}
	}
}
