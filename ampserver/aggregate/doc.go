// Package aggregate implements AMPS aggregated subscriptions: a private view
// over a SOW topic that groups the records passing the subscription filter
// by one or more fields and projects, per group, plain fields and aggregate
// functions (AVG, SUM, COUNT, MIN, MAX, COUNT_DISTINCT, STDDEV_POP,
// STDDEV_SAMP, ANY, UNIQUE, GROUP_CONCAT), e.g.
//
//	projection=[/symbol,avg(/price) as /avg_price,avg(/price*/qty) as /avg_total],grouping=[/symbol]
//
// A View is maintained incrementally from record changes (Apply with the old
// and new version of a SOW record): COUNT, SUM, AVG and the standard
// deviations are O(1) per change, MIN and MAX O(log n) through an ordered
// multiset per group (sorted slices up to 256 distinct values, numbers kept
// as bare keys; a B-tree beyond), the distinct aggregates O(1) expected.
// Aggregates over the same argument share one evaluation and one state.
// Snapshot lists the groups in the order they were created; Add builds a
// view from existing records without printing a group per record.
//
// Cost per change: the fields a view reads that are plain paths (grouping
// fields, aggregate arguments such as /price) are found in one pass over
// each document (filter.FieldSet); their strings alias the document and
// are copied only when the view keeps them (a new group, a new MIN/MAX or
// distinct value, a plain field whose value changed). A record replaced
// within its group costs one group lookup and moves its MIN/MAX value in
// one step. Doubles already printed for a group (MIN, MAX, unchanged
// fields) are not formatted again. The one allocation per change is the
// record produced, which callers may keep.
//
// Semantics (AMPS documentation where it speaks, documented choices where it
// does not):
//   - The filter applies to source records before aggregation. A record that
//     changes group, or enters or leaves the filter, updates both groups: the
//     group it left is reported first.
//   - Aggregates skip NULL; COUNT counts non-NULL values. A value that is not
//     numeric (or NaN) makes SUM, AVG and the standard deviations NaN. MIN and
//     MAX order numbers (and numeric strings) by value before non-numeric
//     strings, which order byte-wise.
//   - SUM of integers is an integer; with any double it is a double. AVG and
//     the standard deviations are doubles. COUNT and COUNT_DISTINCT are
//     integers. MIN, MAX, ANY and UNIQUE keep the type of the chosen value.
//   - Plain (non-aggregated) fields take the value of the last record
//     processed for the group; a delete does not change them.
//   - When a group loses its last record it is removed and reported with
//     Removed set and the last record produced for it, so the server can send
//     an out-of-focus message (reason "deleted") to subscribers asking for
//     oof. This is undocumented in AMPS and is our choice.
//
// Output is JSON with fields in projection order (nested outputs such as
// /a/b grouped into one object), no whitespace; integers print as integers,
// doubles with 15 significant digits and ".0" appended when integral
// (6215.0, 62.2966666666667), which reproduces AMPS byte for byte. NULL
// results are omitted; NaN and infinities print as null.
//
// A View is not safe for concurrent use; Apply must be called in the order
// changes happen to the SOW. The slice Apply returns is reused by the next
// Apply; the records in it are not.
package aggregate
