// Package cli is the flume-ng command line: `agent` (run an agent, with
// Flume's -n/-c/-f/-D options and -X JVM options accepted and ignored, and
// Flume 1.10's configuration URIs: -u, --conf-user/--conf-password, -i, -b;
// the URIs' content is merged before the files', later keys winning, and a
// URI that stops answering never stops a running agent),
// `validate` (check a configuration, print every problem and the topology),
// `help [TYPE]` (every component type, or one type's keys, from the same
// specs the configuration reference is generated from), `version`,
// `channel verify|repair` (offline checks of a stopped file channel) and
// `completion bash|zsh` (shell completion scripts).
package cli
