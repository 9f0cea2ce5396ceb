// Package cli is the flume-ng command line: `agent` (run an agent, with
// Flume's -n/-c/-f/-D options and -X JVM options accepted and ignored),
// `validate` (check a configuration and print every problem), `help [TYPE]`
// (registered component types and their keys) and `version`.
package cli
