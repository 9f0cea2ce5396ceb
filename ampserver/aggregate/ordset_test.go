package aggregate

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"testing"

	"ampsflume/filter"
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

// TestOrdSetMixed checks min, max and their representation over numbers,
// booleans, numeric strings and other strings against a model (a list of
// distinct values with the representation seen when each appeared), in a
// set that stays small and in one that grows into a tree.
func TestOrdSetMixed(t *testing.T) {
	for _, c := range []struct{ distinct, cap int }{{40, 1 << 30}, {600, 1 << 30}, {100000, 60}} {
		distinct := c.distinct
		t.Run(fmt.Sprintf("distinct=%d/size<=%d", c.distinct, c.cap), func(t *testing.T) {
			r := rand.New(rand.NewPCG(3, uint64(distinct)))
			var s ordSet
			type item struct {
				k     ordItem
				val   filter.Value
				count int
			}
			var model []*item
			var present []filter.Value // every occurrence, to pick removals
			gen := func() filter.Value {
				n := r.IntN(distinct)
				switch r.IntN(5) {
				case 0:
					return filter.IntValue(int64(n))
				case 1:
					return filter.NumberValue(float64(n))
				case 2:
					return filter.StringValue(strconv.Itoa(n)) // numeric string
				case 3:
					return filter.BoolValue(n%2 == 0)
				}
				return filter.StringValue("s" + strconv.Itoa(n))
			}
			find := func(k ordItem) int {
				for i, it := range model {
					if !ordLess(it.k, k) && !ordLess(k, it.k) {
						return i
					}
				}
				return -1
			}
			add := func(val filter.Value) ordItem {
				k, _ := ordKey(val)
				k = withRepr(k, val)
				present = append(present, val)
				if j := find(k); j >= 0 {
					model[j].count++
				} else {
					model = append(model, &item{k: k, val: val, count: 1})
				}
				return k
			}
			remove := func() ordItem {
				j := r.IntN(len(present))
				k, _ := ordKey(present[j])
				present = append(present[:j], present[j+1:]...)
				m := find(k)
				if model[m].count--; model[m].count == 0 {
					model = append(model[:m], model[m+1:]...)
				}
				return k
			}
			for i := 0; i < 3000; i++ {
				op := r.IntN(4)
				if len(present) >= c.cap {
					op = 2 + op%2 // hold the size: mostly distinct values moving
				}
				switch {
				case len(present) == 0 || op < 2:
					s.add(add(gen()))
				case op == 2:
					s.remove(remove())
				default:
					// The model removes, then adds, like replace.
					o := remove()
					s.replace(o, add(gen()))
				}
				if s.len() != len(model) {
					t.Fatalf("step %d: len %d, model %d", i, s.len(), len(model))
				}
				for _, isMax := range []bool{false, true} {
					var best *item
					for _, it := range model {
						if best == nil || (!isMax && ordLess(it.k, best.k)) || (isMax && ordLess(best.k, it.k)) {
							best = it
						}
					}
					var it ordItem
					var ok bool
					if isMax {
						it, ok = s.max()
					} else {
						it, ok = s.min()
					}
					if ok != (best != nil) || (ok && it.value() != best.val) {
						t.Fatalf("step %d max=%v: got %#v %v, want %+v", i, isMax, it.value(), ok, best)
					}
				}
			}
			if (s.tree != nil) != (distinct > smallSetMax/2 && c.cap > smallSetMax) {
				t.Fatalf("tree %v with %d distinct values", s.tree != nil, distinct)
			}
		})
	}
}
