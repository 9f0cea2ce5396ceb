// Command flume-ng runs a Flume agent from a Flume properties file, with the
// command line of Apache Flume's bin/flume-ng.
package main

import (
	"os"

	"ampsflume/cmd/flume-ng/internal/cli"
	_ "ampsflume/plugins"
)

func main() { os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr)) }
