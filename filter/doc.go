// Package filter implements the AMPS expression language: content filters
// (Compile, Filter.Match) and value expressions (CompileExpr, Expr.Eval) as
// used by subscriptions, SOW queries, views and aggregated projections.
//
// An expression is compiled once into a tree of nodes and then evaluated
// directly against the raw JSON bytes of a message. Evaluation never decodes
// the whole document: each field reference scans the bytes, skipping
// subtrees it does not need, and numbers and booleans are produced without
// allocating. A FieldSet reads several paths of one document in a single
// pass, for consumers that read the same fields of every record.
// Compiled filters and expressions are immutable and safe for
// concurrent use by many goroutines. Only JSON documents are understood.
//
// # Semantics
//
// A filter matches only when it evaluates to TRUE; FALSE, NULL and NaN do
// not match. A missing field, JSON null, an empty string and an empty array
// are NULL. Comparisons with NULL are NULL (never true). AND and OR follow
// the AMPS tables, which are biased to the left operand: FALSE AND x is
// FALSE, NULL AND x is NULL, TRUE AND x is x; TRUE OR x is TRUE, NULL OR x is
// NULL, FALSE OR x is x. So NULL OR TRUE does not match. NOT NULL is NULL.
//
// Predicates (comparisons, IN, BETWEEN, LIKE, BEGINS WITH, ENDS WITH) match
// a field holding an array when any element matches. Arithmetic and
// functions use the first element.
//
// Comparisons: two strings compare byte-wise; a string against a number is
// converted to a number, and when that fails the string is the greater;
// booleans are 1 and 0. Arithmetic: a NULL operand gives NULL, a NaN
// operand NaN, any double makes the result a double, otherwise integer
// arithmetic (1 / 5 = 0); % and MOD keep the dividend's sign. A string that
// is not a number is NaN in arithmetic.
//
// # Functions
//
// Strings: UPPER, LOWER (ASCII only), LENGTH (bytes), CONCAT, SUBSTR
// (1-based; negative start counts from the end), INSTR, INSTR_I, TRIM,
// LTRIM, RTRIM (optional set of characters), LEFT, RIGHT, REVERSE,
// REPLACE, REGEXP_MATCH, REGEXP_REPLACE, STREQUAL_I, CHAR_VALUE.
// Conditionals: IF (only the chosen branch is evaluated), COALESCE.
// Numbers: ABS, CEILING, FLOOR, ROUND(x[, places]) (half away from zero),
// SIGN, SQRT, EXP, LN, LOG10, POWER, GREATEST, LEAST (NULLs ignored), SIN,
// COS, TAN, ASIN, ACOS, ATAN. Constants: TRUE_VALUE, FALSE_VALUE,
// NAN_VALUE. Time: UNIX_TIMESTAMP. Names are case-insensitive. A function
// whose string result is empty returns NULL, as the empty string is NULL.
//
// # Decisions where the reference notes are silent
//
//   - LIKE and REGEXP_* use Go's RE2 syntax, a subset of PCRE without
//     back-references or look-around. A LIKE pattern must be a literal and
//     is compiled at Compile time.
//   - Integer division or modulo by zero gives NaN; double division follows
//     IEEE (1.0 / 0 is +Inf).
//   - IN with a NULL left side is NULL, so NOT IN does not match a missing
//     field either; NULL elements of the list never equal anything.
//   - IS NAN is TRUE only for a NaN number (e.g. 0.0 / 0); IS NOT NAN is
//     accepted too. IS [NOT] NULL and IS [NOT] NAN are never NULL.
//   - A condition that is not boolean: numbers are true when non-zero,
//     strings that parse as numbers likewise, "true"/"false" in any case are
//     themselves, other strings are NULL.
//   - Field names may contain letters, digits, _ @ $ and, after the first
//     character, . - and :, as in XPath; so /a-1 is the field "a-1" and a
//     subtraction needs blanks. Other names use the bracketed form
//     [/name with spaces]. /a[n] indexes an array from 0; [0] on a non-array
//     is the value itself.
//   - A field step applied to an array of objects applies to each element:
//     /items/price reaches every item's price.
//   - A non-empty JSON object used as a value is its JSON text; an empty
//     object is NULL.
//   - The bare keywords TRUE and FALSE are accepted, as are
//     TRUE_VALUE() and FALSE_VALUE().
//   - Integer results of functions: ABS, CEILING, FLOOR and ROUND keep an
//     integer argument an integer; SQRT, EXP, LN and the like are doubles.
//   - Numbers converted to strings (CONCAT, LIKE on a number) print integers
//     as digits and doubles with up to 15 significant digits.
//   - UNIX_TIMESTAMP() is a double (seconds, microsecond resolution) read
//     from Options.Now at each evaluation; Filter.Deterministic and
//     Expr.Deterministic report its use so callers can bar it where AMPS
//     does.
//   - Aggregate functions (SUM, AVG, …) are rejected with a clear error:
//     they belong to the aggregation engine, which evaluates their
//     arguments with CompileExpr.
package filter
