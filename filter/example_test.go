package filter_test

import (
	"fmt"

	"ampsflume/filter"
)

func ExampleCompile() {
	f, err := filter.Compile(`/symbol in ('IBM','MSFT') and /qty>100`)
	if err != nil {
		panic(err)
	}
	fmt.Println(f)
	fmt.Println(f.Match([]byte(`{"order_key":6, "symbol":"IBM", "price":181.02, "qty":200}`)))
	fmt.Println(f.Match([]byte(`{"order_key":4, "symbol":"FIZZ", "price":61.77, "qty":4000}`)))
	// Output:
	// /symbol IN ('IBM', 'MSFT') AND /qty > 100
	// true
	// false
}

func ExampleCompileExpr() {
	e, err := filter.CompileExpr(`/price*/qty`)
	if err != nil {
		panic(err)
	}
	fmt.Println(e.Eval([]byte(`{"order_key":3, "symbol":"IBM", "price":180.40, "qty":125}`)))
	// Output: 22550.0
}

func ExampleSyntaxError() {
	_, err := filter.Compile(`/qty > `)
	fmt.Println(err)
	// Output: bad filter: expected an operand, found end of expression at offset 7
}
