// Command ampserver runs the AMPS-compatible server from an AMPS XML
// configuration file:
//
//	ampserver CONFIG.xml
//
// Relative paths in the configuration (SOW FileName, JournalDirectory) are
// relative to the working directory, as with AMPS. SIGINT or SIGTERM shuts
// the server down gracefully.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"ampsflume/ampserver"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	fs := flag.NewFlagSet("ampserver", flag.ContinueOnError)
	level := fs.String("log-level", "info", "log level: debug, info, warn or error")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: ampserver [-log-level LEVEL] CONFIG.xml")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(*level)); err != nil {
		fmt.Fprintf(os.Stderr, "ampserver: -log-level: %v\n", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lv}))
	cfg, err := ampserver.LoadConfig(fs.Arg(0))
	if err != nil {
		// Printed plainly so that the file:line location is easy to read.
		fmt.Fprintf(os.Stderr, "ampserver: %v\n", err)
		return 1
	}
	srv, err := ampserver.New(cfg, ampserver.WithLogger(log))
	if err != nil {
		log.Error("starting", "err", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := srv.Start(ctx); err != nil {
		log.Error("starting", "err", err)
		return 1
	}
	<-ctx.Done()
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Error("shutdown", "err", err)
		return 1
	}
	return 0
}
