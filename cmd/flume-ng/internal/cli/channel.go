package cli

import (
	"fmt"
	"io"
	"strings"

	"ampsflume/channels/file"
	"ampsflume/flume/config"
)

const channelUsage = `Usage: flume-ng channel verify|repair [options]

Checks (verify) or repairs (repair) a stopped file channel's checkpoint and
log segments. Repair cuts each damaged segment at its first bad record and
drops the checkpoint when needed, so the next start replays what is left;
events in the dropped part are lost. Both refuse to run while an agent holds
the channel's directories.

Name the directories directly:
  -c,--checkpointDir <dir>        the channel's checkpointDir
  -d,--dataDirs <dir>[,<dir>...]  the channel's dataDirs (comma-separated)
  --backupCheckpointDir <dir>     the channel's backupCheckpointDir (optional)
or take them from a configuration:
  -f,--conf-file <file>           the agent's configuration file (repeatable)
  -n,--name <agent>               the agent name
  --channel <name>                the file channel's name in that agent

verify exits 0 when the channel is sound, 1 when it found a problem.
`

// runChannel is `flume-ng channel verify|repair`: the offline tools of the
// file channel.
func runChannel(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, channelUsage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	op := args[0]
	if op != "verify" && op != "repair" {
		fmt.Fprintf(stderr, "flume-ng channel: unknown operation %q: use verify or repair\n\n%s", op, channelUsage)
		return 2
	}
	dirs, err := channelDirs(args[1:])
	if err != nil {
		fmt.Fprintf(stderr, "flume-ng channel %s: %v\n", op, err)
		return 2
	}
	run := file.Verify
	if op == "repair" {
		run = file.Repair
	}
	rep, err := run(dirs)
	if err != nil {
		fmt.Fprintf(stderr, "flume-ng channel %s: %v\n", op, err)
		return 1
	}
	fmt.Fprintf(stdout, "checkpointDir %s, dataDirs %s\n%s", dirs.CheckpointDir, strings.Join(dirs.DataDirs, ","), rep)
	if op == "verify" && !rep.OK() {
		fmt.Fprintln(stdout, "the channel is damaged; `flume-ng channel repair` with the same options cuts off the bad records")
		return 1
	}
	if op == "verify" {
		fmt.Fprintln(stdout, "ok")
	}
	return 0
}

// channelDirs reads the directory options, or finds them in the named file
// channel of a configuration.
func channelDirs(args []string) (file.Dirs, error) {
	var d file.Dirs
	var files []string
	var agentName, channel string
	for i := 0; i < len(args); i++ {
		name, inline, hasInline := strings.Cut(args[i], "=")
		if !strings.HasPrefix(name, "--") {
			name, inline, hasInline = args[i], "", false
		}
		val := func() (string, error) {
			if hasInline {
				return inline, nil
			}
			if i+1 >= len(args) {
				return "", fmt.Errorf("option %s needs a value", name)
			}
			i++
			return args[i], nil
		}
		var err error
		var v string
		switch name {
		case "-c", "--checkpointDir", "--checkpoint-dir":
			d.CheckpointDir, err = val()
		case "-d", "--dataDirs", "--data-dirs":
			if v, err = val(); err == nil {
				for _, dir := range strings.Split(v, ",") {
					if dir = strings.TrimSpace(dir); dir != "" {
						d.DataDirs = append(d.DataDirs, dir)
					}
				}
			}
		case "--backupCheckpointDir", "--backup-checkpoint-dir":
			d.BackupCheckpointDir, err = val()
		case "-f", "--conf-file":
			if v, err = val(); err == nil {
				files = append(files, v)
			}
		case "-n", "--name":
			agentName, err = val()
		case "--channel":
			channel, err = val()
		default:
			return d, fmt.Errorf("unknown option %q (flume-ng channel --help)", args[i])
		}
		if err != nil {
			return d, err
		}
	}
	fromConfig := len(files) > 0 || agentName != "" || channel != ""
	if fromConfig && (d.CheckpointDir != "" || len(d.DataDirs) > 0) {
		return d, fmt.Errorf("give either -c/-d or -f/-n/--channel, not both")
	}
	if !fromConfig {
		if d.CheckpointDir == "" || len(d.DataDirs) == 0 {
			return d, fmt.Errorf("both -c <checkpointDir> and -d <dataDirs> are required (or -f FILE -n AGENT --channel NAME)")
		}
		return d, nil
	}
	if len(files) == 0 || agentName == "" || channel == "" {
		return d, fmt.Errorf("-f FILE, -n AGENT and --channel NAME are all required")
	}
	props, err := config.Load(files...)
	if err != nil {
		return d, err
	}
	cfg, probs := props.Agent(agentName, config.Options{})
	c := cfg.Channel(channel)
	if c == nil {
		var names []string
		for _, ch := range cfg.Channels {
			names = append(names, ch.Name)
		}
		if err := probs.Err(); err != nil && len(names) == 0 {
			return d, err
		}
		return d, fmt.Errorf("agent %q has no channel %q%s (channels: %s)", agentName, channel, config.DidYouMean(channel, names), strings.Join(names, " "))
	}
	if c.Reg == nil || c.Reg.Spec.Alias != file.Spec.Alias {
		return d, fmt.Errorf("channel %q is of type %q, not a file channel", channel, c.Type)
	}
	fc, err := file.ParseConfig(c.Context())
	if err != nil {
		return d, err
	}
	d.CheckpointDir, d.DataDirs = fc.CheckpointDir, fc.DataDirs
	if fc.UseDualCheckpoints {
		d.BackupCheckpointDir = fc.BackupCheckpointDir
	}
	return d, nil
}
