// Package walkthrough holds the end-to-end tests of the article's
// walkthrough: the three commands run as real processes exactly as the
// article runs them, the same scenario in-process through the example's
// Run, and a spark sow_and_subscribe watching the same aggregated,
// conflated view. They run on the real clock (about 16 s each, in
// parallel): the point is the whole system at the article's pace.
package walkthrough

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	"ampsflume/internal/buildbin"
)

// exampleDir holds the article's example files, relative to this package.
const exampleDir = "../../examples/amps-orders"

// binDir holds ampserver, flume-ng and spark, built by TestMain.
var binDir string

func TestMain(m *testing.M) {
	// The commands are built with the race detector when the tests are, so
	// that a data race in a child process fails the run as well.
	os.Exit(buildbin.Main(m, func(s buildbin.Set) { binDir = s.Dir }, buildbin.Race, "cmd/ampserver", "cmd/flume-ng", "cmd/spark"))
}

// countLines counts complete lines.
func countLines(b []byte) int { return bytes.Count(b, []byte("\n")) }

// diffLines describes the first differences between got and want.
func diffLines(got, want []byte) string {
	g := strings.Split(string(got), "\n")
	w := strings.Split(string(want), "\n")
	var b strings.Builder
	for i := 0; i < max(len(g), len(w)); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			fmt.Fprintf(&b, "line %d:\n  got  %q\n  want %q\n", i+1, gl, wl)
		}
	}
	return b.String()
}
