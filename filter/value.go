package filter

// Kind is the type of a Value.
type Kind uint8

const (
	// Null is the absent or JSON null value: a missing field, or an operation
	// whose result is unknown (AMPS's NULL).
	Null Kind = iota
	Bool
	Number
	String
)

// Value is the result of evaluating an expression against a document.
// Values are small and passed by value; evaluating never allocates for
// numbers and booleans.
type Value struct {
	Kind Kind
	// Num holds a Number. IsInt is true when the number came from an integer
	// literal or JSON integer, or from integer arithmetic (+ - * / % of
	// integers; AMPS divides integers as integers, 1 / 5 = 0), so that
	// aggregates such as SUM of integers can print without a fractional part.
	Num   float64
	IsInt bool
	Str   string
	Bool  bool
}

// NullValue is the NULL value.
var NullValue = Value{}

// NumberValue returns a floating-point Number.
func NumberValue(f float64) Value { return Value{Kind: Number, Num: f} }

// IntValue returns an integer Number.
func IntValue(i int64) Value { return Value{Kind: Number, Num: float64(i), IsInt: true} }

// StringValue returns a String.
func StringValue(s string) Value { return Value{Kind: String, Str: s} }

// BoolValue returns a Bool.
func BoolValue(b bool) Value { return Value{Kind: Bool, Bool: b} }
