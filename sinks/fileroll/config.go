package fileroll

import (
	"fmt"
	"os"
	"strings"
	"time"

	"ampsflume/flume"
	"ampsflume/serializer"
)

// Defaults, as in Flume.
const (
	DefaultRollInterval = 30 * time.Second
	DefaultBatchSize    = 100
)

// Spec declares the sink's type names and keys.
var Spec = flume.Spec{
	Alias: "file_roll",
	Class: "org.apache.flume.sink.RollingFileSink",
	Doc:   "Writes events to files in a local directory, starting a new file every sink.rollInterval seconds.",
	Keys: []flume.Key{
		{Name: "type", Type: "string", Required: true, Doc: "file_roll or org.apache.flume.sink.RollingFileSink"},
		{Name: "channel", Type: "string", Required: true, Doc: "The channel to drain."},
		{Name: "sink.directory", Type: "string", Required: true, Doc: "Directory the files are written to; created if missing."},
		{Name: "sink.rollInterval", Type: "duration(s)", Default: "30", Doc: "Seconds between rolls to a new file; 0 writes one file and never rolls."},
		{Name: "sink.batchSize", Type: "int", Default: "100", ChannelChecked: true, Doc: "Maximum events per transaction; must not exceed the channel's transactionCapacity."},
		{Name: "sink.serializer", Type: "string", Default: "text", Doc: "text (the body) or header_and_text ({k=v, ...} then a space and the body)."},
		{Name: "sink.serializer.appendNewline", Type: "bool", Default: "true", Doc: "Write a newline after each event."},
		{Name: "sink.pathManager", Type: "string", Default: "default", Doc: "File naming: default (<prefix><startMillis>-<n>) or rolltime (<prefix><yyyyMMddHHmmss>-<n>)."},
		{Name: "sink.pathManager.prefix", Type: "string", Default: "", Doc: "Text put before every file name."},
		{Name: "sink.pathManager.extension", Type: "string", Default: "", Doc: "Extension added (after a dot) to every file name."},
		{Name: "sink.fsync", Type: "bool", Default: "false", Doc: "fsync each batch before committing it; Flume only flushes."},
		{Name: "sink.dedupe.header", Type: "string", Default: "",
			Doc: "Exactly-once output: the header carrying each event's AMPS bookmark (ampsBookmark from an AMPS source with exactlyOnce = true). The highest sequence written per publisher is recorded in " + StateFile + " in sink.directory, atomically with the output, and events at or below it are skipped (EventDuplicateSkippedCount). Implies sink.fsync; at start the output file is cut back to the length the record names."},
	},
}

// File is what the sink needs of an open file; *os.File satisfies it.
type File interface {
	Write(p []byte) (int, error)
	Truncate(size int64) error
	Seek(offset int64, whence int) (int64, error)
	Sync() error
	Close() error
}

// Config is the sink's configuration.
type Config struct {
	Directory     string
	RollInterval  time.Duration // 0: never roll
	BatchSize     int
	Serializer    string
	AppendNewline bool
	RollTimeNames bool // the rolltime path manager
	Prefix        string
	Extension     string
	Fsync         bool
	// DedupeHeader, when set, turns on exactly-once output: the header
	// holding each event's AMPS bookmark. It implies Fsync.
	DedupeHeader string

	// Now and OpenFile replace the clock and the file system, for tests.
	// OpenFile must fail if the file exists.
	Now      func() time.Time
	OpenFile func(path string) (File, error)
}

// ParseConfig reads the sink's keys, reporting every bad one.
func ParseConfig(ctx *flume.Context) (Config, error) {
	cfg := Config{AppendNewline: true}
	var errs flume.ConfigErrors
	var err error
	cfg.Directory, err = ctx.RequiredString("sink.directory")
	if !errs.Add(err) && strings.TrimSpace(cfg.Directory) == "" {
		errs.Add(ctx.Errorf("sink.directory", "must not be empty"))
	}
	cfg.RollInterval, err = ctx.Duration("sink.rollInterval", DefaultRollInterval, time.Second)
	errs.Add(err)
	bs, err := ctx.IntRange("sink.batchSize", DefaultBatchSize, 1, 1<<30)
	errs.Add(err)
	cfg.BatchSize = int(bs)
	cfg.Serializer = ctx.String("sink.serializer", "text")
	if _, err := lookupSerializer(cfg.Serializer); err != nil {
		errs.Add(ctx.Errorf("sink.serializer", "%v", err))
	}
	cfg.AppendNewline, err = ctx.Bool("sink.serializer.appendNewline", true)
	errs.Add(err)
	switch pm := strings.ToLower(strings.TrimSpace(ctx.String("sink.pathManager", "default"))); pm {
	case "default":
	case "rolltime":
		cfg.RollTimeNames = true
	default:
		errs.Add(ctx.Errorf("sink.pathManager", "unknown path manager %q: use default or rolltime", pm))
	}
	cfg.Prefix = ctx.String("sink.pathManager.prefix", "")
	cfg.Extension = ctx.String("sink.pathManager.extension", "")
	if strings.ContainsRune(cfg.Prefix+cfg.Extension, os.PathSeparator) {
		errs.Add(ctx.Errorf("sink.pathManager.prefix", "prefix and extension must not contain %q", os.PathSeparator))
	}
	cfg.Fsync, err = ctx.Bool("sink.fsync", false)
	errs.Add(err)
	cfg.DedupeHeader = strings.TrimSpace(ctx.String("sink.dedupe.header", ""))
	return cfg, errs.Err()
}

func openExclusive(path string) (File, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
}

// lookupSerializer finds the serializer a file_roll sink may use: the line
// formats of package serializer (text, header_and_text, by alias or
// builder class). Container formats are refused: a failed batch is cut out
// of the file by truncating it, which a line format survives unchanged
// whatever state the serializer is in.
func lookupSerializer(name string) (*serializer.Builder, error) {
	b, ok := serializer.Lookup(name)
	if !ok || (b.Name != "text" && b.Name != "header_and_text") {
		return nil, fmt.Errorf("unknown serializer %q: use text or header_and_text", name)
	}
	return b, nil
}
