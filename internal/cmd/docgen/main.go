// Command docgen writes the configuration reference (docs/reference/*.md)
// from the specs of every component linked into flume-ng. It is run by
// `go generate ./docs/...`.
package main

import (
	"flag"
	"fmt"
	"os"

	"ampsflume/internal/docgen"
	_ "ampsflume/plugins"
)

func main() {
	dir := flag.String("dir", "reference", "directory to write the pages into")
	flag.Parse()
	if err := docgen.Write(*dir); err != nil {
		fmt.Fprintln(os.Stderr, "docgen:", err)
		os.Exit(1)
	}
}
