package aggregate

import (
	"math/rand/v2"
	"sort"
	"testing"
)

// TestOrdSet checks the ordered multiset against a sorted slice model
// across the switch from slice to tree.
func TestOrdSet(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var s ordSet
	model := map[float64]int{}
	for i := 0; i < 6000; i++ {
		x := float64(r.IntN(400))
		if r.IntN(3) > 0 {
			s.add(ordItem{num: x})
			model[x]++
		} else if model[x] > 0 {
			s.remove(ordItem{num: x})
			if model[x]--; model[x] == 0 {
				delete(model, x)
			}
		} else {
			s.remove(ordItem{num: x}) // absent: no effect
		}
		if s.len() != len(model) {
			t.Fatalf("step %d: len %d, model %d", i, s.len(), len(model))
		}
		if i%50 != 0 {
			continue
		}
		keys := make([]float64, 0, len(model))
		for k := range model {
			keys = append(keys, k)
		}
		sort.Float64s(keys)
		mn, ok1 := s.min()
		mx, ok2 := s.max()
		if len(keys) == 0 {
			if ok1 || ok2 {
				t.Fatalf("step %d: empty set has extremes", i)
			}
			continue
		}
		if !ok1 || !ok2 || mn.num != keys[0] || mx.num != keys[len(keys)-1] {
			t.Fatalf("step %d: min %v max %v, want %v %v", i, mn.num, mx.num, keys[0], keys[len(keys)-1])
		}
	}
	if s.tree == nil {
		t.Fatal("the set never grew into a tree")
	}
}
