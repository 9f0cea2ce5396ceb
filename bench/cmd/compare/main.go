// Command compare runs the benchmark scenarios of ampsflume against its
// peers side by side and writes the result into BENCHMARKS.md.
//
//	cd bench && go run ./cmd/compare [-runs 5] [-only fanout1,replay] [-short] [-out ../BENCHMARKS.md]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"

	"ampsflume/bench/compare"
)

func main() {
	if compare.IsChild(os.Args[1:]) {
		os.Exit(compare.ChildMain(os.Args[1:], os.Stdout, os.Stderr))
	}
	runs := flag.Int("runs", 5, "runs per side of each scenario")
	only := flag.String("only", "", "comma list of scenarios to run (default: all)")
	short := flag.Bool("short", false, "tiny counts: check that every scenario runs")
	out := flag.String("out", "../BENCHMARKS.md", "Markdown file whose compare section is rewritten; empty: print only")
	tmp := flag.String("tmp", "", "directory for scratch data (default: the system temporary directory)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	o := compare.Options{Runs: *runs, Short: *short, TmpDir: *tmp, Log: os.Stderr}
	if *only != "" {
		o.Only = strings.Split(*only, ",")
	}
	start := time.Now()
	outs, err := compare.Compare(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
	command := "cd bench && go run ./cmd/compare"
	if len(os.Args) > 1 {
		command += " " + strings.Join(os.Args[1:], " ")
	}
	md := compare.Markdown(outs, compare.ThisMachine(), command, start, o.Runs)
	fmt.Println(md)
	fmt.Fprintf(os.Stderr, "compare: finished in %v\n", time.Since(start).Round(time.Second))
	if *out != "" && !*short {
		if err := compare.UpdateSection(*out, md); err != nil {
			fmt.Fprintln(os.Stderr, "compare:", err)
			os.Exit(1)
		}
	}
	if compare.Failed(outs) {
		os.Exit(1)
	}
}
