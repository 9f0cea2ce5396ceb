package crash

import (
	"os"
	"testing"

	"ampsflume/internal/buildbin"
)

// binary is the flume-ng executable built for the tests; ampserverBinary is
// the AMPS-compatible server, for the queue tests.
var binary, ampserverBinary string

func TestMain(m *testing.M) {
	os.Exit(buildbin.Main(m, func(s buildbin.Set) {
		binary = s.Path("flume-ng")
		ampserverBinary = s.Path("ampserver")
	}, false, "cmd/flume-ng", "cmd/ampserver"))
}
