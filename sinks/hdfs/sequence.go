package hdfs

import (
	"errors"
	"io"
	"strconv"
	"strings"
	"time"

	"ampsflume/flume"
	"ampsflume/sinks/hdfs/seqfile"
)

// SequenceConfig is how SequenceFiles are written (hdfs.fileType =
// SequenceFile, Flume's default).
type SequenceConfig struct {
	// Text writes each body as a Hadoop Text (hdfs.writeFormat = Text)
	// instead of a BytesWritable (Writable, the default).
	Text bool
	// Compression is the layout when Config.Codec is set: seqfile.Block
	// (what Flume always uses) or seqfile.Record (hdfs.compressionType).
	Compression seqfile.Compression
}

// seqCodec is the SequenceFile codec for a Flume codec name, nil if it has
// none the format can carry.
func seqCodec(name string) *seqfile.Codec {
	switch name {
	case "gzip":
		return seqfile.GzipCodec
	case "deflate":
		return seqfile.DefaultCodec
	}
	return nil
}

// parseSequence reads the SequenceFile keys: hdfs.writeFormat, and with
// hdfs.codeC, hdfs.compressionType.
func parseSequence(cfg *Config, ctx *flume.Context, codec string) error {
	var errs flume.ConfigErrors // hdfs.writeFormat is checked apart from the codec
	seq := &SequenceConfig{}
	switch wf := strings.TrimSpace(ctx.String("hdfs.writeFormat", "Writable")); strings.ToLower(wf) {
	case "writable":
	case "text":
		seq.Text = true
	default:
		errs.Add(ctx.Errorf("hdfs.writeFormat", "unknown format %q: use Writable (bodies as BytesWritable) or Text", wf))
	}
	ct := strings.TrimSpace(ctx.String("hdfs.compressionType", ""))
	if codec == "" {
		if ct != "" && !strings.EqualFold(ct, "NONE") {
			errs.Add(ctx.Errorf("hdfs.compressionType", "%s compression needs hdfs.codeC (gzip or deflate)", ct))
			return errs.Err()
		}
		cfg.Sequence = seq
		return errs.Err()
	}
	c, ok := lookupCodec(codec)
	if !ok {
		errs.Add(ctx.Errorf("hdfs.codeC", "unsupported codec %q: SequenceFiles take gzip (GzipCodec) or deflate (DefaultCodec)", codec))
		return errs.Err()
	}
	if seqCodec(c.name) == nil {
		errs.Add(ctx.Errorf("hdfs.codeC", "%q is not supported in SequenceFiles: use gzip or deflate, or hdfs.fileType = CompressedStream for %s", codec, c.name))
		return errs.Err()
	}
	if ct == "" {
		ct = "BLOCK"
	}
	comp, err := seqfile.ParseCompression(ct)
	if err != nil {
		errs.Add(ctx.Errorf("hdfs.compressionType", "%v", err))
		return errs.Err()
	}
	if comp == seqfile.None {
		errs.Add(ctx.Errorf("hdfs.compressionType", "NONE compresses nothing: remove hdfs.codeC, or use BLOCK or RECORD"))
		return errs.Err()
	}
	seq.Compression = comp
	cfg.Codec = c.name
	cfg.Sequence = seq
	return errs.Err()
}

// seqSerializer writes events as SequenceFile records the way Flume's
// HDFSWritableSerializer and HDFSTextSerializer do: the key is a
// LongWritable of the timestamp header (epoch milliseconds), or of the
// current time when there is none or it is not a number; the value is the
// body. Flush ends a batch on a record boundary (a sync marker, or the end
// of a block), which is what the sink cuts a failed batch back to.
type seqSerializer struct {
	out      io.Writer
	opt      seqfile.Options
	text     bool
	now      func() time.Time
	w        *seqfile.Writer
	key, val []byte
}

func (s *Sink) newSeqSerializer(out io.Writer) *seqSerializer {
	seq := s.cfg.Sequence
	opt := seqfile.Options{KeyClass: seqfile.LongWritableClass, ValueClass: seqfile.BytesWritableClass}
	if seq.Text {
		opt.ValueClass = seqfile.TextClass
	}
	if seq.Compression != seqfile.None && s.codec != nil {
		opt.Compression, opt.Codec = seq.Compression, seqCodec(s.codec.name)
	}
	return &seqSerializer{out: out, opt: opt, text: seq.Text, now: s.cfg.Now}
}

func (q *seqSerializer) AfterCreate() (err error) {
	q.w, err = seqfile.NewWriter(q.out, q.opt)
	return err
}

func (q *seqSerializer) AfterReopen() error {
	return errors.New("a SequenceFile cannot be appended to")
}

func (q *seqSerializer) SupportsReopen() bool { return false }

func (q *seqSerializer) Write(e *flume.Event) error {
	ms, err := strconv.ParseInt(strings.TrimSpace(e.Headers["timestamp"]), 10, 64)
	if err != nil {
		ms = q.now().UnixMilli()
	}
	q.key = seqfile.AppendLongWritable(q.key[:0], ms)
	if q.text {
		q.val = seqfile.AppendText(q.val[:0], e.Body)
	} else {
		q.val = seqfile.AppendBytesWritable(q.val[:0], e.Body)
	}
	err = q.w.Append(q.key, q.val)
	if cap(q.val) > 1<<20 {
		q.val = nil // do not pin one huge event's buffer
	}
	return err
}

func (q *seqSerializer) Flush() error { return q.w.Sync() }

func (q *seqSerializer) BeforeClose() error { return q.w.Close() }
