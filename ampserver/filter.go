package ampserver

import "ampsflume/filter"

// matcher is a compiled content filter.
type matcher interface{ Match(doc []byte) bool }

// evaluator is a compiled value expression (SOW keys, orderby).
type evaluator interface{ Eval(doc []byte) filter.Value }

func compileFilter(expr string) (matcher, error) { return filter.Compile(expr) }

func compileExpr(expr string) (evaluator, error) { return filter.CompileExpr(expr) }
