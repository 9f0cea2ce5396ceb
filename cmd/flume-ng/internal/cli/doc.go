// Package cli is the flume-ng command line: `agent` (run an agent, with
// Flume's -n/-c/-f/-D options and -X JVM options accepted and ignored),
// `validate` (check a configuration, print every problem and the topology),
// `help [TYPE]` (every component type, or one type's keys, from the same
// specs the configuration reference is generated from), `version`,
// `channel verify|repair` (offline checks of a stopped file channel) and
// `completion bash|zsh` (shell completion scripts).
package cli
