package file

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"ampsflume/flume"
)

// Defaults, as in Flume.
const (
	DefaultCapacity             = 1000000
	DefaultTransactionCapacity  = 10000
	DefaultCheckpointInterval   = 30 * time.Second
	DefaultMaxFileSize          = 2146435071
	DefaultMinimumRequiredSpace = 524288000
	DefaultKeepAlive            = 3 * time.Second
	DefaultFsyncInterval        = 5 * time.Second

	// minimumRequiredSpaceFloor is Flume's floor for minimumRequiredSpace.
	minimumRequiredSpaceFloor = 1 << 20
	// minMaxFileSize keeps segments large enough for their header and a
	// few records.
	minMaxFileSize = 4096
	// defaultSpillBytes is how many bytes of records a transaction buffers
	// before writing them to the log ahead of its commit, bounding the
	// memory of a transaction with large events.
	defaultSpillBytes = 4 << 20
)

// Spec declares the channel's type names and keys.
var Spec = flume.Spec{
	Alias: "file",
	Class: "org.apache.flume.channel.file.FileChannel",
	Doc: "Durable channel: a write-ahead log with group commit and periodic checkpoints. " +
		"Committed events survive a crash; memory use is 8 bytes per queued event.",
	Keys: []flume.Key{
		{Name: "type", Type: "string", Required: true, Doc: "file or org.apache.flume.channel.file.FileChannel"},
		{Name: "checkpointDir", Type: "string", Default: "~/.flume/file-channel/checkpoint",
			Doc: "Directory of the checkpoint (the queue's pointers). Each channel needs its own."},
		{Name: "dataDirs", Type: "string", Default: "~/.flume/file-channel/data",
			Doc: "Comma-separated directories of the log segments; new segments go to them in turn."},
		{Name: "capacity", Type: "int", Default: strconv.Itoa(DefaultCapacity),
			Doc: "Maximum number of events in the channel, counting uncommitted puts and takes."},
		{Name: "transactionCapacity", Type: "int", Default: strconv.Itoa(DefaultTransactionCapacity),
			Doc: "Maximum number of events one transaction may put or take."},
		{Name: "checkpointInterval", Type: "duration(ms)", Default: "30000",
			Doc: "Milliseconds between checkpoints; a restart replays only the log written since the last one."},
		{Name: "maxFileSize", Type: "int(bytes)", Default: strconv.Itoa(DefaultMaxFileSize),
			Doc: "Size at which the log rolls to a new segment (also the maximum)."},
		{Name: "minimumRequiredSpace", Type: "int(bytes)", Default: strconv.Itoa(DefaultMinimumRequiredSpace),
			Doc: "Puts fail with a channel-full error while a data or checkpoint directory has less free space (floor 1 MB)."},
		{Name: "keep-alive", Type: "duration(s)", Default: "3",
			Doc: "Seconds a put waits for room and a take waits for an event."},
		{Name: "useDualCheckpoints", Type: "bool", Default: "false",
			Doc: "Also write each checkpoint to backupCheckpointDir, used when the main one is unreadable."},
		{Name: "backupCheckpointDir", Type: "string",
			Doc: "Directory of the backup checkpoint; required with useDualCheckpoints and different from checkpointDir."},
		{Name: "checkpointOnClose", Type: "bool", Default: "true",
			Doc: "Write a checkpoint when the channel stops, so the next start replays nothing."},
		{Name: "fsyncPerTransaction", Type: "bool", Default: "true",
			Doc: "Fsync the log before a commit returns (concurrent commits share one fsync). When false, fsync every fsyncInterval and accept losing that window on a machine crash."},
		{Name: "fsyncInterval", Type: "duration(s)", Default: "5",
			Doc: "Seconds between fsyncs when fsyncPerTransaction is false."},
		// Flume keys that are accepted and ignored: they tune Flume's own
		// on-disk format, which this channel does not use.
		{Name: "compressBackupCheckpoint", Type: "bool", Default: "false", Doc: "Accepted for compatibility; ignored."},
		{Name: "use-fast-replay", Type: "bool", Default: "false", Doc: "Accepted for compatibility; ignored (replay is always from the last checkpoint)."},
		{Name: "use-log-replay-v1", Type: "bool", Default: "false", Doc: "Accepted for compatibility; ignored."},
	},
}

// Config is the channel's configuration.
type Config struct {
	CheckpointDir        string
	DataDirs             []string
	BackupCheckpointDir  string // used when UseDualCheckpoints
	UseDualCheckpoints   bool
	Capacity             int
	TransactionCapacity  int
	CheckpointInterval   time.Duration // 0 disables periodic checkpoints
	MaxFileSize          int64
	MinimumRequiredSpace int64
	KeepAlive            time.Duration
	CheckpointOnClose    bool
	FsyncPerTransaction  bool
	FsyncInterval        time.Duration

	// FreeSpace, when set, replaces the statfs probe of free space; tests
	// use it to simulate a filling disk.
	FreeSpace func(dir string) (uint64, error)

	spillBytes int // 0 means defaultSpillBytes
	fs         fs  // nil means the operating system
}

// DefaultConfig returns Flume's defaults, with the directories under
// ~/.flume/file-channel as Flume has them.
func DefaultConfig() Config {
	home, err := os.UserHomeDir()
	if err != nil {
		home = "."
	}
	base := filepath.Join(home, ".flume", "file-channel")
	return Config{
		CheckpointDir:        filepath.Join(base, "checkpoint"),
		DataDirs:             []string{filepath.Join(base, "data")},
		Capacity:             DefaultCapacity,
		TransactionCapacity:  DefaultTransactionCapacity,
		CheckpointInterval:   DefaultCheckpointInterval,
		MaxFileSize:          DefaultMaxFileSize,
		MinimumRequiredSpace: DefaultMinimumRequiredSpace,
		KeepAlive:            DefaultKeepAlive,
		CheckpointOnClose:    true,
		FsyncPerTransaction:  true,
		FsyncInterval:        DefaultFsyncInterval,
	}
}

// expandHome turns a leading "~" into the home directory, as users write
// Flume paths that way.
func expandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[1:])
		}
	}
	return p
}

// ParseConfig reads the channel's keys. An invalid value is an error naming
// the key and the line it was written on; every invalid key is reported
// (joined), not only the first.
func ParseConfig(ctx *flume.Context) (Config, error) {
	cfg := DefaultConfig()
	var errs flume.ConfigErrors
	var err error
	cfg.CheckpointDir = expandHome(strings.TrimSpace(ctx.String("checkpointDir", cfg.CheckpointDir)))
	if ctx.Has("dataDirs") {
		cfg.DataDirs = nil
		for _, d := range strings.Split(ctx.String("dataDirs", ""), ",") {
			if d = strings.TrimSpace(d); d != "" {
				cfg.DataDirs = append(cfg.DataDirs, expandHome(d))
			}
		}
		if len(cfg.DataDirs) == 0 {
			errs.Add(ctx.Errorf("dataDirs", "names no directory"))
		}
	}
	cfg.Capacity, err = ctx.Int("capacity", cfg.Capacity)
	capOK := !errs.Add(err)
	if cfg.Capacity <= 0 {
		capOK = false
		errs.Add(ctx.Errorf("capacity", "must be positive, got %d", cfg.Capacity))
	}
	cfg.TransactionCapacity, err = ctx.Int("transactionCapacity", cfg.TransactionCapacity)
	txOK := !errs.Add(err)
	if cfg.TransactionCapacity <= 0 {
		txOK = false
		errs.Add(ctx.Errorf("transactionCapacity", "must be positive, got %d", cfg.TransactionCapacity))
	}
	// Compared only when both were understood: a default standing in for a
	// malformed value would make a second, misleading report.
	if capOK && txOK && cfg.TransactionCapacity > cfg.Capacity {
		errs.Add(ctx.Errorf("transactionCapacity", "%d exceeds capacity %d", cfg.TransactionCapacity, cfg.Capacity))
	}
	cfg.CheckpointInterval, err = ctx.Duration("checkpointInterval", cfg.CheckpointInterval, time.Millisecond)
	errs.Add(err)
	cfg.MaxFileSize, err = ctx.IntRange("maxFileSize", cfg.MaxFileSize, minMaxFileSize, DefaultMaxFileSize)
	errs.Add(err)
	cfg.MinimumRequiredSpace, err = ctx.Int64("minimumRequiredSpace", cfg.MinimumRequiredSpace)
	errs.Add(err)
	cfg.MinimumRequiredSpace = max(cfg.MinimumRequiredSpace, minimumRequiredSpaceFloor)
	cfg.KeepAlive, err = ctx.Duration("keep-alive", cfg.KeepAlive, time.Second)
	errs.Add(err)
	cfg.UseDualCheckpoints, err = ctx.Bool("useDualCheckpoints", false)
	errs.Add(err)
	cfg.BackupCheckpointDir = expandHome(strings.TrimSpace(ctx.String("backupCheckpointDir", "")))
	if cfg.UseDualCheckpoints {
		if cfg.BackupCheckpointDir == "" {
			errs.Add(ctx.Errorf("backupCheckpointDir", "is required when useDualCheckpoints is true"))
		} else if filepath.Clean(cfg.BackupCheckpointDir) == filepath.Clean(cfg.CheckpointDir) {
			errs.Add(ctx.Errorf("backupCheckpointDir", "must differ from checkpointDir"))
		}
	}
	cfg.CheckpointOnClose, err = ctx.Bool("checkpointOnClose", true)
	errs.Add(err)
	cfg.FsyncPerTransaction, err = ctx.Bool("fsyncPerTransaction", true)
	errs.Add(err)
	cfg.FsyncInterval, err = ctx.Duration("fsyncInterval", cfg.FsyncInterval, time.Second)
	errs.Add(err)
	for _, k := range []string{"compressBackupCheckpoint", "use-fast-replay", "use-log-replay-v1"} {
		_, err := ctx.Bool(k, false)
		errs.Add(err)
	}
	return cfg, errs.Err()
}

// validate checks a Config built by hand (ParseConfig's checks, for
// embedders that fill the struct directly).
func (c *Config) validate() error {
	switch {
	case c.CheckpointDir == "":
		return fmt.Errorf("checkpointDir is empty")
	case len(c.DataDirs) == 0:
		return fmt.Errorf("dataDirs is empty")
	case c.Capacity <= 0 || c.TransactionCapacity <= 0:
		return fmt.Errorf("capacity %d and transactionCapacity %d must be positive", c.Capacity, c.TransactionCapacity)
	case c.TransactionCapacity > c.Capacity:
		return fmt.Errorf("transactionCapacity %d exceeds capacity %d", c.TransactionCapacity, c.Capacity)
	case c.MaxFileSize < minMaxFileSize || c.MaxFileSize > DefaultMaxFileSize:
		return fmt.Errorf("maxFileSize %d is out of range [%d, %d]", c.MaxFileSize, minMaxFileSize, DefaultMaxFileSize)
	case c.UseDualCheckpoints && (c.BackupCheckpointDir == "" || filepath.Clean(c.BackupCheckpointDir) == filepath.Clean(c.CheckpointDir)):
		return fmt.Errorf("backupCheckpointDir must be set and differ from checkpointDir when useDualCheckpoints is true")
	}
	seen := map[string]bool{filepath.Clean(c.CheckpointDir): true}
	for _, d := range c.DataDirs {
		if seen[filepath.Clean(d)] {
			return fmt.Errorf("data directory %s is listed twice or is also the checkpoint directory", d)
		}
		seen[filepath.Clean(d)] = true
	}
	return nil
}
