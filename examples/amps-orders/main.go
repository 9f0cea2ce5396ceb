// Command amps-orders runs the article's example in one process: an
// AMPS-compatible server from amps-config.xml, the Flume agent of
// flume-conf.properties (AMPS source, memory channel, file_roll sink) and
// the publishing of messages.json at one message per second. It prints each
// output line as it lands and exits 0 when the output equals
// expected-output.jsonl byte for byte, 1 otherwise.
//
//	go run ./examples/amps-orders [-out DIR] [-rate N] [-conflation D] [-ports-from-config] [-v]
//
// The example's files are embedded, so the command runs from any directory.
// The server gets a fresh working directory (its SOW and journal start
// empty) and OS-chosen loopback ports unless -ports-from-config is given.
package main

import (
	"context"
	"embed"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"ampsflume/examples/amps-orders/walkthrough"
)

//go:embed amps-config.xml flume-conf.properties messages.json expected-output.jsonl
var files embed.FS

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	fs := flag.NewFlagSet("amps-orders", flag.ContinueOnError)
	out := fs.String("out", "", "directory for the file_roll output (default: a fresh temporary directory, kept)")
	rate := fs.Float64("rate", 1, "messages per second, as spark publish -rate")
	conflation := fs.Duration("conflation", 0, "replace the subscription's conflation interval (default: as configured, 1s); with -rate 10 use 100ms")
	fromConfig := fs.Bool("ports-from-config", false, "listen on the ports of amps-config.xml (9007, 9008, 8085) instead of free loopback ports")
	timeout := fs.Duration("timeout", 0, "how long to wait for the output (default: publishing time + 30s)")
	verbose := fs.Bool("v", false, "print the server's and the agent's logs")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "amps-orders: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	// The agent's components log through the default logger.
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(logger)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	res, err := walkthrough.Run(ctx, walkthrough.Options{
		Files:           files,
		OutDir:          *out,
		Rate:            *rate,
		Conflation:      *conflation,
		PortsFromConfig: *fromConfig,
		Timeout:         *timeout,
		Progress:        os.Stdout,
		Logger:          logger,
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "amps-orders: %v\n", err)
		return 1
	}
	fmt.Printf("done in %.1fs; output in %s\n", time.Since(start).Seconds(), res.OutDir)
	if !res.Match {
		return 1
	}
	return 0
}
