package aggregate

import (
	"math"
	"sort"
	"strconv"
	"strings"

	"ampsflume/filter"
)

// colState holds the running statistics of one column within one group.
// Every update is O(1) except the ordered multiset, which is O(log n).
type colState struct {
	// Fields in the order an update touches them: the sums first, the
	// ordered set inline rather than behind a pointer, so that one
	// column's change reads as few cache lines as possible when there are
	// many groups.
	n      int     // non-NULL values
	nan    int     // values that are NaN or not numeric (numeric aggregates)
	nonInt int     // numeric values that are doubles
	isum   int64   // sum of the integer values (exact while nonInt == 0)
	fsum   float64 // sum of all numeric values, in arrival order

	ordered bool // MIN or MAX: order is maintained
	onan    int  // NaN numbers seen by MIN/MAX
	order   ordSet

	mean float64 // Welford running mean of the numeric values
	m2   float64 // Welford sum of squared deviations
	nnum int     // numeric, non-NaN values (Welford's count)

	distinct map[string]*distItem
	anyKey   string // key of the most recent distinct value added (ANY)
}

// ordItem is one distinct value in the ordered multiset. Numbers, booleans
// and numeric strings order by value before non-numeric strings, which
// order byte-wise: the AMPS comparison rules made total, so that over
// 24, 'cat', 1.3, '75' MIN is 1.3 and MAX is 'cat'. Items are small values
// stored inline in the tree's nodes, so comparisons do not chase pointers.
type ordItem struct {
	num   float64
	str   string // the string (for numeric strings too: the value as seen)
	count int32
	class uint8       // 0 numeric, 1 string
	kind  filter.Kind // the first representation seen
	isInt bool
	b     bool
}

func (it ordItem) value() filter.Value {
	switch it.kind {
	case filter.Number:
		return filter.Value{Kind: filter.Number, Num: it.num, IsInt: it.isInt}
	case filter.Bool:
		return filter.BoolValue(it.b)
	}
	return filter.StringValue(it.str)
}

func ordLess(a, b ordItem) bool {
	if a.class != b.class {
		return a.class < b.class
	}
	if a.class == 0 {
		return a.num < b.num
	}
	return a.str < b.str
}

type distItem struct {
	key   string // its key in colState.distinct
	val   filter.Value
	count int
}

func newColState(nd needs) colState {
	var c colState
	c.ordered = nd&needOrder != 0
	if nd&needDistinct != 0 {
		c.distinct = make(map[string]*distItem)
	}
	return c
}

// add (sign=+1) or remove (sign=-1) one value. Strings in v may alias a
// document: what the state keeps is copied. scratch is a reusable buffer.
func (c *colState) update(v filter.Value, sign int, nd needs, scratch *[]byte) {
	if v.Kind == filter.Null {
		return
	}
	c.updateStats(v, sign, nd, scratch)
	if c.ordered {
		c.updateOrder(v, sign)
	}
}

// replace removes old and adds new: a record replaced within its group.
// The result is that of update(old, -1) then update(new, +1); the ordered
// set moves the value in one step.
func (c *colState) replace(old, new filter.Value, nd needs, scratch *[]byte) {
	if old.Kind != filter.Null {
		c.updateStats(old, -1, nd, scratch)
	}
	if new.Kind != filter.Null {
		c.updateStats(new, +1, nd, scratch)
	}
	if !c.ordered {
		return
	}
	ko, okOld := ordKey(old)
	kn, okNew := ordKey(new)
	if old.Kind == filter.Null || new.Kind == filter.Null || !okOld || !okNew {
		if old.Kind != filter.Null {
			c.updateOrder(old, -1)
		}
		if new.Kind != filter.Null {
			c.updateOrder(new, +1)
		}
		return
	}
	c.order.replace(ko, withRepr(kn, new))
}

// updateStats is update without the ordered set.
func (c *colState) updateStats(v filter.Value, sign int, nd needs, scratch *[]byte) {
	c.n += sign
	if nd&(needSum|needWelford) != 0 {
		x := v.AsNumber()
		switch {
		case x.Kind != filter.Number || math.IsNaN(x.Num):
			c.nan += sign
		default:
			if x.IsInt {
				c.isum += int64(sign) * int64(x.Num)
			} else {
				c.nonInt += sign
			}
			c.fsum += float64(sign) * x.Num
			if nd&needWelford != 0 {
				c.welford(x.Num, sign)
			}
		}
	}
	if c.distinct != nil {
		c.updateDistinct(v, sign, scratch)
	}
}

func (c *colState) welford(x float64, sign int) {
	if sign > 0 {
		c.nnum++
		d := x - c.mean
		c.mean += d / float64(c.nnum)
		c.m2 += d * (x - c.mean)
		return
	}
	if c.nnum <= 1 {
		c.nnum, c.mean, c.m2 = 0, 0, 0
		return
	}
	d := x - c.mean
	c.nnum--
	c.mean -= d / float64(c.nnum)
	c.m2 -= d * (x - c.mean)
	if c.m2 < 0 {
		c.m2 = 0
	}
}

func ordKey(v filter.Value) (ordItem, bool) {
	switch v.Kind {
	case filter.Number, filter.Bool:
		x := v.AsNumber()
		if math.IsNaN(x.Num) {
			return ordItem{}, false
		}
		return ordItem{class: 0, num: x.Num}, true
	default:
		if x := v.AsNumber(); x.Kind == filter.Number && !math.IsNaN(x.Num) {
			return ordItem{class: 0, num: x.Num}, true
		}
		return ordItem{class: 1, str: v.Str}, true
	}
}

func (c *colState) updateOrder(v filter.Value, sign int) {
	k, ok := ordKey(v)
	if !ok {
		c.onan += sign
		return
	}
	if sign > 0 {
		c.order.add(withRepr(k, v))
		return
	}
	c.order.remove(k)
}

// withRepr records in k the representation of v, the value it came from.
func withRepr(k ordItem, v filter.Value) ordItem {
	k.kind, k.isInt, k.b = v.Kind, v.IsInt, v.Bool
	if v.Kind == filter.String {
		k.str = v.Str
	}
	return k
}

// appendDistKey encodes the identity of a value for the distinct
// aggregates: numbers by value (2 and 2.0 are one value), strings by
// content.
func appendDistKey(b []byte, v filter.Value) []byte {
	switch v.Kind {
	case filter.Number:
		return strconv.AppendFloat(append(b, 'n'), v.Num, 'g', -1, 64)
	case filter.Bool:
		if v.Bool {
			return append(b, "n1"...)
		}
		return append(b, "n0"...)
	}
	return append(append(b, 's'), v.Str...)
}

func (c *colState) updateDistinct(v filter.Value, sign int, scratch *[]byte) {
	*scratch = appendDistKey((*scratch)[:0], v)
	it := c.distinct[string(*scratch)]
	if sign > 0 {
		if it == nil {
			if v.Kind == filter.String {
				v.Str = strings.Clone(v.Str)
			}
			it = &distItem{key: string(*scratch), val: v}
			c.distinct[it.key] = it
		}
		it.count++
		c.anyKey = it.key
		return
	}
	if it == nil {
		return
	}
	if it.count--; it.count <= 0 {
		delete(c.distinct, it.key)
	}
}

// result computes the aggregate f from the column state.
func (c *colState) result(f fn, delim string) filter.Value {
	switch f {
	case fnCount:
		return filter.IntValue(int64(c.n))
	case fnSum, fnAvg, fnStddevPop, fnStddevSamp:
		if c.n == 0 {
			return filter.NullValue
		}
		if c.nan > 0 {
			return filter.NumberValue(math.NaN())
		}
		switch f {
		case fnSum:
			if c.nonInt == 0 {
				return filter.IntValue(c.isum)
			}
			return filter.NumberValue(c.fsum)
		case fnAvg:
			return filter.NumberValue(c.fsum / float64(c.n))
		case fnStddevPop:
			return filter.NumberValue(math.Sqrt(c.m2 / float64(c.nnum)))
		default:
			if c.nnum < 2 {
				return filter.NullValue
			}
			return filter.NumberValue(math.Sqrt(c.m2 / float64(c.nnum-1)))
		}
	case fnMin, fnMax:
		if c.onan > 0 {
			return filter.NumberValue(math.NaN())
		}
		var it ordItem
		var ok bool
		if f == fnMin {
			it, ok = c.order.min()
		} else {
			it, ok = c.order.max()
		}
		if !ok {
			return filter.NullValue
		}
		return it.value()
	case fnCountDistinct:
		return filter.IntValue(int64(len(c.distinct)))
	case fnUnique:
		if len(c.distinct) != 1 {
			return filter.NullValue
		}
		for _, it := range c.distinct {
			return it.val
		}
	case fnAny:
		if it, ok := c.distinct[c.anyKey]; ok {
			return it.val
		}
		// The latest value is gone: fall back to the smallest key so the
		// choice is deterministic.
		best := ""
		var val filter.Value
		for k, it := range c.distinct {
			if best == "" || k < best {
				best, val = k, it.val
			}
		}
		return val
	case fnGroupConcat:
		if len(c.distinct) == 0 {
			return filter.NullValue
		}
		parts := make([]string, 0, len(c.distinct))
		for _, it := range c.distinct {
			parts = append(parts, it.val.Text())
		}
		// AMPS leaves the order unspecified; sorting makes output stable.
		sort.Strings(parts)
		return filter.StringValue(strings.Join(parts, delim))
	}
	return filter.NullValue
}
