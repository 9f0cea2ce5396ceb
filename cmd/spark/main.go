// Command spark is a command-line AMPS client compatible with 60East's
// spark: ping, publish, subscribe, sow, sow_and_subscribe and sow_delete,
// with single-dash flags and the same output.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
