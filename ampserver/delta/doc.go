// Package delta implements the JSON side of AMPS delta messaging.
//
// Merge applies a delta_publish to the stored record: the merge works on
// leaf paths, so a path present in the delta replaces the value at that path
// (arrays and scalars are replaced whole, objects are merged member by
// member), absent paths keep their old values, and new paths are added. A
// delta therefore cannot remove a field.
//
// Diff computes what a delta subscription receives when a record changes:
// the fields whose values changed plus the key fields (the SOW key, or the
// grouping fields of an aggregated subscription), with nested objects
// reduced to their changed members. It also reports whether anything other
// than the keys changed, which the no_empties option uses to skip empty
// deltas. A field removed by a full publish cannot be expressed as a delta
// and is not reported.
//
// Both functions accept any valid JSON object, keep the member order of the
// inputs (old members first, then new ones), and write compact JSON; member
// values that are not merged are copied byte for byte. Invalid input is an
// error, never a panic.
package delta
