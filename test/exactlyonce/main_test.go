package exactlyonce

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"

	"ampsflume/internal/buildbin"
)

// binary is the flume-ng executable built for the tests.
var binary string

func TestMain(m *testing.M) {
	bins, err := buildbin.Build(false, "cmd/flume-ng")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = bins.Path("flume-ng")
	code := m.Run()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			code = 1
		}
	}
	bins.Remove()
	os.Exit(code)
}
