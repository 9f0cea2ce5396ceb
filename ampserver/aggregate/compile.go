package aggregate

import "ampsflume/filter"

// defaultCompile is used when Config.Compile is nil: the AMPS expression
// language of the filter package.
func defaultCompile(expr string) (Evaluator, error) {
	e, err := filter.CompileExpr(expr)
	if err != nil {
		return nil, err
	}
	return e, nil
}
