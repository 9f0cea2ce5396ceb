package aggregate

import (
	"slices"
	"strings"

	"ampsflume/filter"

	"github.com/google/btree"
)

// smallSetMax is the number of distinct values up to which an ordered set
// is a pair of sorted slices: below it, a binary search plus a short
// memmove beats a tree's pointer chasing; above it the set moves into a
// B-tree, so every operation stays O(log n).
const smallSetMax = 256

// ordSet is an ordered multiset of values (MIN and MAX). While small it
// keeps numbers apart from strings (numbers order first), numbers as bare
// keys with their metadata in a parallel slice: a search reads 8 bytes per
// value and an insert moves 16, which matters when thousands of groups'
// sets do not fit in the cache.
type ordSet struct {
	nums  []float64          // sorted distinct numeric keys (class 0)
	meta  []ordMeta          // parallel to nums
	reprs map[float64]string // text of the numbers first seen as numeric strings
	strs  []ordItem          // sorted distinct non-numeric strings (class 1)
	tree  *btree.BTreeG[ordItem]
}

// ordMeta is what a numeric item keeps besides its key.
type ordMeta struct {
	count int32
	kind  filter.Kind // the first representation seen
	isInt bool
	b     bool
}

// searchNum returns the position of x in nums and whether it is there.
func (s *ordSet) searchNum(x float64) (int, bool) {
	lo, hi := 0, len(s.nums)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s.nums[m] < x {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < len(s.nums) && s.nums[lo] == x
}

// searchStr returns the position of str in strs and whether it is there.
func (s *ordSet) searchStr(str string) (int, bool) {
	lo, hi := 0, len(s.strs)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s.strs[m].str < str {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < len(s.strs) && s.strs[lo].str == str
}

// numAt returns the numeric item at position i of nums.
func (s *ordSet) numAt(i int) ordItem {
	m := s.meta[i]
	it := ordItem{num: s.nums[i], count: m.count, class: 0, kind: m.kind, isInt: m.isInt, b: m.b}
	if m.kind == filter.String {
		it.str = s.reprs[it.num]
	}
	return it
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
	if k.class == 0 {
		i, found := s.searchNum(k.num)
		if found {
			s.meta[i].count++
			return
		}
		s.nums = slices.Insert(s.nums, i, k.num)
		s.meta = slices.Insert(s.meta, i, ordMeta{count: 1, kind: k.kind, isInt: k.isInt, b: k.b})
		if k.kind == filter.String {
			if s.reprs == nil {
				s.reprs = map[float64]string{}
			}
			s.reprs[k.num] = strings.Clone(k.str)
		}
	} else {
		i, found := s.searchStr(k.str)
		if found {
			s.strs[i].count++
			return
		}
		k.str = strings.Clone(k.str)
		s.strs = slices.Insert(s.strs, i, k)
	}
	if len(s.nums)+len(s.strs) > smallSetMax {
		s.grow()
	}
}

// grow moves the set into a B-tree.
func (s *ordSet) grow() {
	s.tree = btree.NewG[ordItem](16, ordLess)
	for i := range s.nums {
		s.tree.ReplaceOrInsert(s.numAt(i))
	}
	for _, it := range s.strs {
		s.tree.ReplaceOrInsert(it)
	}
	s.nums, s.meta, s.reprs, s.strs = nil, nil, nil, nil
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
	if k.class == 0 {
		i, found := s.searchNum(k.num)
		if !found {
			return
		}
		if s.meta[i].count > 1 {
			s.meta[i].count--
			return
		}
		if s.meta[i].kind == filter.String {
			delete(s.reprs, s.nums[i])
		}
		s.nums = slices.Delete(s.nums, i, i+1)
		s.meta = slices.Delete(s.meta, i, i+1)
		return
	}
	i, found := s.searchStr(k.str)
	if !found {
		return
	}
	if s.strs[i].count > 1 {
		s.strs[i].count--
		return
	}
	s.strs = slices.Delete(s.strs, i, i+1)
}

// replace removes one occurrence of o and adds one of n, with the result
// of remove(o) then add(n). When o's value leaves a small numeric set for
// a new value, it moves there in one step: only the values between the
// two positions shift, where remove and add would each shift the rest of
// the set.
func (s *ordSet) replace(o, n ordItem) {
	if s.tree != nil || o.class != 0 || n.class != 0 {
		s.remove(o)
		s.add(n)
		return
	}
	i, found := s.searchNum(o.num)
	if !found || s.meta[i].count > 1 {
		s.remove(o)
		s.add(n)
		return
	}
	// o's value goes: its slot is reused.
	if s.meta[i].kind == filter.String {
		delete(s.reprs, s.nums[i])
	}
	j, foundNew := s.searchNum(n.num)
	if foundNew && j != i {
		s.meta[j].count++
		s.nums = slices.Delete(s.nums, i, i+1)
		s.meta = slices.Delete(s.meta, i, i+1)
		return
	}
	switch {
	case j > i:
		j--
		copy(s.nums[i:j], s.nums[i+1:j+1])
		copy(s.meta[i:j], s.meta[i+1:j+1])
	case j < i:
		copy(s.nums[j+1:i+1], s.nums[j:i])
		copy(s.meta[j+1:i+1], s.meta[j:i])
	}
	s.nums[j] = n.num
	s.meta[j] = ordMeta{count: 1, kind: n.kind, isInt: n.isInt, b: n.b}
	if n.kind == filter.String {
		if s.reprs == nil {
			s.reprs = map[float64]string{}
		}
		s.reprs[n.num] = strings.Clone(n.str)
	}
}

func (s *ordSet) min() (ordItem, bool) {
	switch {
	case s.tree != nil:
		return s.tree.Min()
	case len(s.nums) > 0:
		return s.numAt(0), true
	case len(s.strs) > 0:
		return s.strs[0], true
	}
	return ordItem{}, false
}

func (s *ordSet) max() (ordItem, bool) {
	switch {
	case s.tree != nil:
		return s.tree.Max()
	case len(s.strs) > 0:
		return s.strs[len(s.strs)-1], true
	case len(s.nums) > 0:
		return s.numAt(len(s.nums) - 1), true
	}
	return ordItem{}, false
}

func (s *ordSet) len() int {
	if s.tree != nil {
		return s.tree.Len()
	}
	return len(s.nums) + len(s.strs)
}
