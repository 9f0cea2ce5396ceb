package hdfs

import (
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"ampsflume/flume"
	"ampsflume/serializer"
	"ampsflume/sinks/hdfs/fsys"
)

// Defaults, as in Flume 1.7.
const (
	DefaultFilePrefix   = "FlumeData"
	DefaultInUseSuffix  = ".tmp"
	DefaultRollInterval = 30 * time.Second
	DefaultRollSize     = 1024
	DefaultRollCount    = 10
	DefaultBatchSize    = 100
	DefaultMaxOpenFiles = 5000
	DefaultCallTimeout  = 10 * time.Second
)

// serializerKeys declares each serializer key once, naming the serializers
// that read it (text and header_and_text share appendNewline).
func serializerKeys() []flume.Key {
	var keys []flume.Key
	users := map[string][]string{}
	for _, name := range serializer.Names() {
		b, _ := serializer.Lookup(name)
		for _, k := range b.Keys {
			k.Name = "serializer." + k.Name
			if _, seen := users[k.Name]; !seen {
				keys = append(keys, k)
			}
			users[k.Name] = append(users[k.Name], name)
		}
	}
	for i := range keys {
		keys[i].Doc = strings.Join(users[keys[i].Name], ", ") + ": " + keys[i].Doc
	}
	return keys
}

func ignoredKey(name, def, doc string) flume.Key {
	return flume.Key{Name: name, Type: "string", Default: def, Doc: "Accepted for compatibility and ignored: " + doc}
}

// Spec declares the sink's type names and keys.
var Spec = flume.Spec{
	Alias: "hdfs",
	Class: "org.apache.flume.sink.hdfs.HDFSEventSink",
	Doc: "Writes events to files in time- and header-bucketed directories on the local disk, HDFS or S3, " +
		"rolling files by time, size, event count and idleness. A file carries its in-use name until it is complete.",
	Keys: append([]flume.Key{
		{Name: "type", Type: "string", Required: true, Doc: "hdfs or org.apache.flume.sink.hdfs.HDFSEventSink"},
		{Name: "channel", Type: "string", Required: true, Doc: "The channel to drain."},
		{Name: "hdfs.path", Type: "string", Required: true, Doc: "Directory, with escapes: a plain path or file:///dir (local disk), hdfs://namenode:port/dir, or s3://bucket/prefix."},
		{Name: "hdfs.filePrefix", Type: "string", Default: DefaultFilePrefix, Doc: "Name prefix of the files, with escapes."},
		{Name: "hdfs.fileSuffix", Type: "string", Default: "", Doc: "Name suffix of the files (replaces the codec's extension), e.g. .avro."},
		{Name: "hdfs.inUsePrefix", Type: "string", Default: "", Doc: "Prefix of a file's name while it is written."},
		{Name: "hdfs.inUseSuffix", Type: "string", Default: DefaultInUseSuffix, Doc: "Suffix of a file's name while it is written."},
		{Name: "hdfs.emptyInUseSuffix", Type: "bool", Default: "false", Doc: "Use no in-use suffix (hdfs.inUseSuffix is ignored)."},
		{Name: "hdfs.rollInterval", Type: "duration(s)", Default: "30", Doc: "Seconds after which a file is closed; 0 never rolls by time."},
		{Name: "hdfs.rollSize", Type: "int(bytes)", Default: "1024", Doc: "Event body bytes after which a file is closed; 0 never rolls by size."},
		{Name: "hdfs.rollCount", Type: "int", Default: "10", Doc: "Events after which a file is closed; 0 never rolls by count."},
		{Name: "hdfs.idleTimeout", Type: "duration(s)", Default: "0", Doc: "Seconds without writes after which a file is closed; 0 disables."},
		{Name: "hdfs.batchSize", Type: "int", Default: "100", ChannelChecked: true, Doc: "Events per transaction; must not exceed the channel's transactionCapacity."},
		{Name: "hdfs.fileType", Type: "string", Default: "SequenceFile", Doc: "SequenceFile (Hadoop SequenceFile, version 6: key LongWritable timestamp, value the body as hdfs.writeFormat says; the serializer is not used), DataStream (serialized events as they are) or CompressedStream (serialized events compressed with hdfs.codeC)."},
		{Name: "hdfs.codeC", Type: "string", Default: "", Doc: "Codec: gzip (.gz), deflate or default (.deflate, zlib), zstd (.zst, CompressedStream only). Required by CompressedStream; optional with SequenceFile (compressed as hdfs.compressionType says, named GzipCodec or DefaultCodec in the file); refused with DataStream."},
		{Name: "hdfs.writeFormat", Type: "string", Default: "Writable", Doc: "SequenceFile values: Writable (the body as a BytesWritable) or Text (the body as a Hadoop Text, for Hive and hadoop fs -text). Ignored by other file types."},
		{Name: "hdfs.compressionType", Type: "string", Default: "BLOCK", Doc: "SequenceFile with hdfs.codeC: BLOCK (records compressed together, what Flume writes) or RECORD (each value compressed alone). Not a Flume key; ignored by other file types."},
		{Name: "hdfs.round", Type: "bool", Default: "false", Doc: "Round the timestamp used by time escapes down."},
		{Name: "hdfs.roundValue", Type: "int", Default: "1", Doc: "Round down to a multiple of this many units."},
		{Name: "hdfs.roundUnit", Type: "string", Default: "second", Doc: "second, minute or hour."},
		{Name: "hdfs.timeZone", Type: "string", Default: "Local Time", Doc: "Time zone of the time escapes, e.g. UTC or America/Los_Angeles."},
		{Name: "hdfs.useLocalTimeStamp", Type: "bool", Default: "false", Doc: "Use the sink's clock instead of the timestamp header for time escapes."},
		{Name: "hdfs.maxOpenFiles", Type: "int", Default: "5000", Doc: "Open files kept at most; the least recently used is closed first."},
		{Name: "hdfs.callTimeout", Type: "duration(ms)", Default: "10000", Doc: "Milliseconds allowed for a remote file system call (connect, upload, rename)."},
		{Name: "hdfs.user", Type: "string", Default: "", Doc: "HDFS user; default HADOOP_USER_NAME or the agent's user."},
		{Name: "hdfs.s3.endpoint", Type: "string", Default: "AWS_ENDPOINT_URL or s3.amazonaws.com", Doc: "S3 endpoint host[:port] or URL."},
		{Name: "hdfs.s3.accessKey", Type: "string", Default: "AWS_ACCESS_KEY_ID", Doc: "S3 access key."},
		{Name: "hdfs.s3.secretKey", Type: "string", Default: "AWS_SECRET_ACCESS_KEY", Doc: "S3 secret key."},
		{Name: "hdfs.s3.region", Type: "string", Default: "AWS_REGION", Doc: "S3 region."},
		{Name: "hdfs.s3.useSSL", Type: "bool", Default: "true", Doc: "Use HTTPS for an endpoint given without a scheme."},
		{Name: "hdfs.s3.pathStyle", Type: "bool", Default: "false", Doc: "Path-style bucket addressing (for S3-compatible stores)."},
		{Name: "hdfs.s3.spoolDir", Type: "string", Default: "<temp dir>/flume-hdfs-s3/<sink name>", Doc: "Local directory holding files until they are complete and uploaded."},
		{Name: "hdfs.dedupe.header", Type: "string", Default: "", Doc: "Exactly-once output on the local disk: the header carrying each event's AMPS bookmark (ampsBookmark from an AMPS source with exactlyOnce = true). The highest sequence written per publisher and the length of every in-use file are recorded in " + StateFile + " in the literal base directory of hdfs.path after the batch is fsynced, and events at or below it are skipped (EventDuplicateSkippedCount). At start in-use files are cut back to their recorded length. Needs a local path and an in-use prefix or suffix."},
		{Name: "serializer", Type: "string", Default: "text", Doc: "Event serializer of DataStream and CompressedStream files: text, header_and_text or avro_event. SequenceFiles do not use it."},
		{Name: "serializer.", Type: "string", Doc: "Serializer options."},
		ignoredKey("hdfs.closeTries", "0", "a failed close leaves the in-use file, renamed at the next start."),
		ignoredKey("hdfs.retryInterval", "180", "see hdfs.closeTries."),
		ignoredKey("hdfs.threadsPoolSize", "10", "calls are made from the sink's goroutine."),
		ignoredKey("hdfs.rollTimerPoolSize", "1", "one goroutine checks the rolls."),
		ignoredKey("hdfs.minBlockReplicas", "", "replication is the namenode's."),
		ignoredKey("hdfs.kerberosPrincipal", "", "Kerberos is not supported."),
		ignoredKey("hdfs.kerberosKeytab", "", "Kerberos is not supported."),
		ignoredKey("hdfs.proxyUser", "", "use hdfs.user."),
	}, serializerKeys()...),
}

// Config is the sink's configuration.
type Config struct {
	// Scheme is "file", "hdfs" or "s3"; Authority the namenode address or
	// bucket. Path is the directory template (without scheme and authority).
	Scheme, Authority string
	Path              *Template
	FilePrefix        *Template
	FileSuffix        string
	InUsePrefix       string
	InUseSuffix       string
	RollInterval      time.Duration
	RollSize          int64
	RollCount         int64
	IdleTimeout       time.Duration
	BatchSize         int
	Codec             string // "" for DataStream, or an uncompressed SequenceFile
	// Sequence, when set, writes Hadoop SequenceFiles instead of the
	// serializer's stream; Codec then compresses their values or blocks.
	// Nil (the zero Config) is DataStream, or CompressedStream with Codec.
	Sequence          *SequenceConfig
	Round             Rounding
	Location          *time.Location
	UseLocalTimeStamp bool
	MaxOpenFiles      int
	CallTimeout       time.Duration
	HDFSUser          string
	S3                fsys.S3Config
	Serializer        string
	SerializerConfig  *flume.Context
	// DedupeHeader, when set, turns on exactly-once output (local disk
	// only): the header holding each event's AMPS bookmark.
	DedupeHeader string

	// Now is the clock (tests replace it). Host holds the host escapes'
	// values; zero means look them up. FS replaces the file system chosen
	// by the scheme (tests).
	Now  func() time.Time
	Host Host
	FS   fsys.FS
}

// ParseConfig reads the sink's keys. name is the sink's name (for the default
// S3 spool directory). Every bad key is reported (joined), not only the
// first.
func ParseConfig(name string, ctx *flume.Context) (Config, error) {
	cfg := Config{Now: time.Now}
	var errs flume.ConfigErrors
	raw, err := ctx.RequiredString("hdfs.path")
	pathOK := !errs.Add(err)
	if pathOK {
		if err := splitURL(&cfg, raw); err != nil {
			pathOK = false
			errs.Add(ctx.Errorf("hdfs.path", "%v", err))
		}
	}
	if cfg.FilePrefix, err = ParseTemplate(ctx.String("hdfs.filePrefix", DefaultFilePrefix)); err != nil {
		errs.Add(ctx.Errorf("hdfs.filePrefix", "%v", err))
	}
	cfg.FileSuffix = ctx.String("hdfs.fileSuffix", "")
	cfg.InUsePrefix = ctx.String("hdfs.inUsePrefix", "")
	cfg.InUseSuffix = ctx.String("hdfs.inUseSuffix", DefaultInUseSuffix)
	for _, k := range []string{"hdfs.fileSuffix", "hdfs.inUsePrefix", "hdfs.inUseSuffix"} {
		if v := ctx.String(k, ""); strings.Contains(v, "/") || strings.Contains(v, "..") {
			errs.Add(ctx.Errorf(k, "%q must not contain / or ..", v))
		}
	}
	empty, err := ctx.Bool("hdfs.emptyInUseSuffix", false)
	errs.Add(err)
	if empty {
		cfg.InUseSuffix = ""
	}
	cfg.RollInterval, err = ctx.Duration("hdfs.rollInterval", DefaultRollInterval, time.Second)
	errs.Add(err)
	cfg.RollSize, err = ctx.IntRange("hdfs.rollSize", DefaultRollSize, 0, 1<<62)
	errs.Add(err)
	cfg.RollCount, err = ctx.IntRange("hdfs.rollCount", DefaultRollCount, 0, 1<<62)
	errs.Add(err)
	cfg.IdleTimeout, err = ctx.Duration("hdfs.idleTimeout", 0, time.Second)
	errs.Add(err)
	bs, err := ctx.IntRange("hdfs.batchSize", DefaultBatchSize, 1, 1<<30)
	errs.Add(err)
	cfg.BatchSize = int(bs)
	errs.Add(parseFileType(&cfg, ctx))
	errs.Add(parseTime(&cfg, ctx))
	mof, err := ctx.IntRange("hdfs.maxOpenFiles", DefaultMaxOpenFiles, 1, 1<<30)
	errs.Add(err)
	cfg.MaxOpenFiles = int(mof)
	cfg.CallTimeout, err = ctx.Duration("hdfs.callTimeout", DefaultCallTimeout, time.Millisecond)
	if !errs.Add(err) && cfg.CallTimeout == 0 {
		errs.Add(ctx.Errorf("hdfs.callTimeout", "must be positive"))
	}
	cfg.HDFSUser = ctx.String("hdfs.user", "")
	errs.Add(parseS3(&cfg, name, ctx))
	cfg.Serializer = ctx.String("serializer", "text")
	errs.Add(serializer.Check(ctx, "serializer", cfg.Serializer))
	cfg.SerializerConfig = ctx.Sub("serializer.")
	// The dedupe checks look at the path: skipped when it is already
	// reported.
	if cfg.DedupeHeader = strings.TrimSpace(ctx.String("hdfs.dedupe.header", "")); cfg.DedupeHeader != "" && pathOK {
		switch {
		case cfg.Scheme != "file":
			errs.Add(ctx.Errorf("hdfs.dedupe.header", "needs a local hdfs.path: %s files cannot be fsynced and cut back to a recorded length", cfg.Scheme))
		case strings.TrimSuffix(cfg.Path.baseDir(), "/") == "" || cfg.Path.baseDir() == "./":
			errs.Add(ctx.Errorf("hdfs.dedupe.header", "needs hdfs.path to start with a literal directory, where the dedupe record is kept"))
		case cfg.InUsePrefix == "" && cfg.InUseSuffix == "":
			errs.Add(ctx.Errorf("hdfs.dedupe.header", "needs an in-use prefix or suffix, to tell the files being written at a crash"))
		}
	}
	return cfg, errs.Err()
}

// splitURL separates scheme and authority from the path template; escapes
// are allowed in the path only.
func splitURL(cfg *Config, raw string) error {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return fmt.Errorf("must not be empty")
	}
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		scheme, rest = "file", raw
	} else {
		scheme = strings.ToLower(scheme)
		var auth string
		auth, rest, _ = strings.Cut(rest, "/")
		rest = "/" + rest
		if strings.ContainsAny(auth, "%") {
			return fmt.Errorf("%q: escapes are not allowed in the host or bucket", raw)
		}
		switch scheme {
		case "file":
			if auth != "" && auth != "localhost" {
				return fmt.Errorf("%q: a file:// URL names no host: write file:///dir", raw)
			}
		case "hdfs":
			if auth != "" {
				if _, err := url.Parse("hdfs://" + auth); err != nil {
					return fmt.Errorf("%q: bad namenode address: %v", raw, err)
				}
			}
		case "s3", "s3a":
			scheme = "s3"
			if auth == "" {
				return fmt.Errorf("%q: no bucket: write s3://bucket/prefix", raw)
			}
		default:
			return fmt.Errorf("%q: unsupported scheme %q: use a plain path, file://, hdfs:// or s3://", raw, scheme)
		}
		cfg.Authority = auth
	}
	cfg.Scheme = scheme
	t, err := ParseTemplate(rest)
	if err != nil {
		return err
	}
	cfg.Path = t
	return nil
}

func parseFileType(cfg *Config, ctx *flume.Context) error {
	ft := strings.TrimSpace(ctx.String("hdfs.fileType", "SequenceFile"))
	codec := strings.ToLower(strings.TrimSpace(ctx.String("hdfs.codeC", "")))
	switch strings.ToLower(ft) {
	case "sequencefile":
		if err := parseSequence(cfg, ctx, codec); err != nil {
			return err
		}
		if ctx.Has("serializer") {
			slog.Warn("serializer is ignored by SequenceFiles, as in Flume: set hdfs.fileType = DataStream to use it",
				"component", ctx.Component(), "serializer", ctx.String("serializer", ""))
		}
	case "datastream":
		if codec != "" {
			return ctx.Errorf("hdfs.codeC", "DataStream files are not compressed: set hdfs.fileType = CompressedStream to use %q", codec)
		}
	case "compressedstream":
		if codec == "" {
			return ctx.Errorf("hdfs.codeC", "is required with hdfs.fileType = CompressedStream: use gzip, deflate or zstd")
		}
		c, ok := lookupCodec(codec)
		if !ok {
			return ctx.Errorf("hdfs.codeC", "unsupported codec %q: use gzip, deflate (or default) or zstd", codec)
		}
		cfg.Codec = c.name
	default:
		return ctx.Errorf("hdfs.fileType", "unknown file type %q: use SequenceFile, DataStream or CompressedStream", ft)
	}
	return nil
}

func parseTime(cfg *Config, ctx *flume.Context) error {
	var errs flume.ConfigErrors
	round, err := ctx.Bool("hdfs.round", false)
	errs.Add(err)
	rv, err := ctx.Int("hdfs.roundValue", 1)
	rvOK := !errs.Add(err)
	unit := strings.ToLower(strings.TrimSpace(ctx.String("hdfs.roundUnit", "second")))
	limit := map[string]int{"second": 60, "minute": 60, "hour": 24}[unit]
	if limit == 0 {
		errs.Add(ctx.Errorf("hdfs.roundUnit", "unknown unit %q: use second, minute or hour", unit))
	} else if rvOK && (rv < 1 || rv > limit) {
		errs.Add(ctx.Errorf("hdfs.roundValue", "%d is out of range [1, %d] for unit %s", rv, limit, unit))
	}
	if round {
		cfg.Round = Rounding{Value: rv, Unit: unit}
	}
	cfg.Location = time.Local
	if tz := strings.TrimSpace(ctx.String("hdfs.timeZone", "")); tz != "" {
		if loc, err := time.LoadLocation(tz); err != nil {
			errs.Add(ctx.Errorf("hdfs.timeZone", "unknown time zone %q: use an IANA name such as UTC or Europe/Paris", tz))
		} else {
			cfg.Location = loc
		}
	}
	cfg.UseLocalTimeStamp, err = ctx.Bool("hdfs.useLocalTimeStamp", false)
	errs.Add(err)
	return errs.Err()
}

func parseS3(cfg *Config, name string, ctx *flume.Context) error {
	var errs flume.ConfigErrors
	s := &cfg.S3
	s.Bucket = cfg.Authority
	s.Endpoint = ctx.String("hdfs.s3.endpoint", "")
	s.AccessKey = ctx.String("hdfs.s3.accessKey", "")
	s.SecretKey = ctx.String("hdfs.s3.secretKey", "")
	s.Region = ctx.String("hdfs.s3.region", "")
	if (s.AccessKey == "") != (s.SecretKey == "") {
		errs.Add(ctx.Errorf("hdfs.s3.accessKey", "set both hdfs.s3.accessKey and hdfs.s3.secretKey, or neither to use AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"))
	}
	if ctx.Has("hdfs.s3.useSSL") {
		v, err := ctx.Bool("hdfs.s3.useSSL", true)
		if !errs.Add(err) {
			s.UseSSL = &v
		}
	}
	var err error
	s.PathStyle, err = ctx.Bool("hdfs.s3.pathStyle", false)
	errs.Add(err)
	s.SpoolDir = ctx.String("hdfs.s3.spoolDir", filepath.Join(os.TempDir(), "flume-hdfs-s3", name))
	return errs.Err()
}
