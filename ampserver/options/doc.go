// Package options parses the options string of AMPS subscription and query
// commands (the `o` header): a comma-separated list of `name` or
// `name=value` entries such as
//
//	projection=[/symbol,avg(/price) as /avg_price],grouping=[/symbol],conflation=1s
//
// Splitting happens only on top-level commas: commas inside brackets and
// parentheses belong to the value. Whitespace around names, around `=` and
// around entries is ignored, and empty entries (a trailing comma added by
// clients, or the blank left by a .properties continuation line) are
// skipped.
//
// Parse returns a typed Options value. An unknown option, a value given to
// a flag, a missing value or a malformed value yields an *Error whose
// Reason is "invalid options" (the reason AMPS puts on the failure ack) and
// whose message names the offending option. Parse never panics and does not
// retain the input.
package options
