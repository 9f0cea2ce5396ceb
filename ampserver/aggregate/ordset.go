package aggregate

import (
	"strings"

	"github.com/google/btree"
)

// smallSetMax is the size up to which an ordered set is a sorted slice:
// below it, a binary search plus a short memmove beats a tree's pointer
// chasing; above it the set moves into a B-tree, so every operation stays
// O(log n).
const smallSetMax = 256

// ordSet is an ordered multiset of values (MIN and MAX).
type ordSet struct {
	small []ordItem // sorted by ordLess while tree is nil
	tree  *btree.BTreeG[ordItem]
}

// search returns the position of k in small and whether it is there.
func (s *ordSet) search(k ordItem) (int, bool) {
	lo, hi := 0, len(s.small)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if ordLess(s.small[m], k) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < len(s.small) && !ordLess(k, s.small[lo])
}

// add inserts one occurrence of k (k.count is ignored); an equal value
// already present keeps its first representation. k.str may alias a
// document: it is copied when k is inserted.
func (s *ordSet) add(k ordItem) {
	k.count = 1
	if s.tree != nil {
		if prev, found := s.tree.Get(k); found {
			prev.count++
			s.tree.ReplaceOrInsert(prev)
			return
		}
		k.str = strings.Clone(k.str)
		s.tree.ReplaceOrInsert(k)
		return
	}
	i, found := s.search(k)
	if found {
		s.small[i].count++
		return
	}
	k.str = strings.Clone(k.str)
	s.small = append(s.small, ordItem{})
	copy(s.small[i+1:], s.small[i:])
	s.small[i] = k
	if len(s.small) > smallSetMax {
		s.tree = btree.NewG[ordItem](16, ordLess)
		for _, it := range s.small {
			s.tree.ReplaceOrInsert(it)
		}
		s.small = nil
	}
}

// remove deletes one occurrence of k, if present.
func (s *ordSet) remove(k ordItem) {
	if s.tree != nil {
		if prev, found := s.tree.Delete(k); found && prev.count > 1 {
			prev.count--
			s.tree.ReplaceOrInsert(prev)
		}
		return
	}
	i, found := s.search(k)
	if !found {
		return
	}
	if s.small[i].count > 1 {
		s.small[i].count--
		return
	}
	copy(s.small[i:], s.small[i+1:])
	s.small[len(s.small)-1] = ordItem{}
	s.small = s.small[:len(s.small)-1]
}

func (s *ordSet) min() (ordItem, bool) {
	if s.tree != nil {
		return s.tree.Min()
	}
	if len(s.small) == 0 {
		return ordItem{}, false
	}
	return s.small[0], true
}

func (s *ordSet) max() (ordItem, bool) {
	if s.tree != nil {
		return s.tree.Max()
	}
	if len(s.small) == 0 {
		return ordItem{}, false
	}
	return s.small[len(s.small)-1], true
}

func (s *ordSet) len() int {
	if s.tree != nil {
		return s.tree.Len()
	}
	return len(s.small)
}
