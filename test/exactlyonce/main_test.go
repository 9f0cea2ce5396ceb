package exactlyonce

import (
	"os"
	"testing"

	"ampsflume/internal/buildbin"
)

// binary is the flume-ng executable built for the tests.
var binary string

func TestMain(m *testing.M) {
	os.Exit(buildbin.Main(m, func(s buildbin.Set) { binary = s.Path("flume-ng") }, false, "cmd/flume-ng"))
}
