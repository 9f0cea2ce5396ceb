package serializer

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/hamba/avro/v2"
	"github.com/hamba/avro/v2/ocf"

	"ampsflume/flume"
)

// EventSchema is Flume's event record as avro_event writes it.
const EventSchema = `{"type":"record","name":"Event","fields":[` +
	`{"name":"headers","type":{"type":"map","values":"string"}},` +
	`{"name":"body","type":"bytes"}]}`

// DefaultSyncIntervalBytes is Flume's syncIntervalBytes: the block size at
// which a new sync marker is written.
const DefaultSyncIntervalBytes = 2048000

var eventSchema = avro.MustParse(EventSchema)

// AvroEvent is the Go form of one record of EventSchema, for readers of
// avro_event files.
type AvroEvent struct {
	Headers map[string]string `avro:"headers"`
	Body    []byte            `avro:"body"`
}

var avroCodecs = map[string]ocf.CodecName{
	"null":      ocf.Null,
	"deflate":   ocf.Deflate,
	"snappy":    ocf.Snappy,
	"zstandard": ocf.ZStandard,
	"zstd":      ocf.ZStandard,
}

type avroConfig struct {
	syncInterval int
	codec        ocf.CodecName
}

func parseAvroConfig(cfg *flume.Context) (avroConfig, error) {
	var c avroConfig
	var errs flume.ConfigErrors // every bad key, not only the first
	n, err := cfg.IntRange("syncIntervalBytes", DefaultSyncIntervalBytes, 1, 1<<30)
	errs.Add(err)
	c.syncInterval = int(n)
	name := strings.ToLower(strings.TrimSpace(cfg.String("compressionCodec", "null")))
	codec, ok := avroCodecs[name]
	if !ok {
		errs.Add(cfg.Errorf("compressionCodec", "unknown Avro codec %q: use null, deflate, snappy or zstandard", name))
	}
	c.codec = codec
	return c, errs.Err()
}

var avroEventBuilder = Builder{
	Name:  "avro_event",
	Class: "org.apache.flume.serialization.FlumeEventAvroEventSerializer$Builder",
	Doc:   "An Avro object container file of Flume's Event record (headers map and body bytes), readable by avro-tools and Flume's tooling; cannot be appended to.",
	Keys: []flume.Key{
		{Name: "syncIntervalBytes", Type: "int(bytes)", Default: "2048000", Doc: "Uncompressed size at which a block ends and a sync marker is written."},
		{Name: "compressionCodec", Type: "string", Default: "null", Doc: "Avro block codec: null, deflate, snappy or zstandard."},
	},
	Check: func(cfg *flume.Context) error { _, err := parseAvroConfig(cfg); return err },
	New: func(cfg *flume.Context, w io.Writer) (Serializer, error) {
		c, err := parseAvroConfig(cfg)
		if err != nil {
			return nil, err
		}
		return &avroSerializer{w: w, cfg: c}, nil
	},
}

// avroSerializer writes an Avro object container file. The encoder is made
// in AfterCreate because making it writes the file header.
type avroSerializer struct {
	w   io.Writer
	cfg avroConfig
	enc *ocf.Encoder
	rec AvroEvent
}

func (s *avroSerializer) AfterCreate() error {
	enc, err := ocf.NewEncoderWithSchema(eventSchema, s.w,
		ocf.WithCodec(s.cfg.codec),
		ocf.WithBlockLength(0), // blocks end by size or at Flush only
		ocf.WithBlockSize(s.cfg.syncInterval))
	if err != nil {
		return fmt.Errorf("avro_event: writing the container header: %w", err)
	}
	s.enc = enc
	return nil
}

func (s *avroSerializer) AfterReopen() error {
	return errors.New("avro_event: an Avro container file cannot be reopened for append")
}

func (s *avroSerializer) SupportsReopen() bool { return false }

func (s *avroSerializer) Write(e *flume.Event) error {
	if s.enc == nil {
		return errors.New("avro_event: Write before AfterCreate")
	}
	s.rec.Headers, s.rec.Body = e.Headers, e.Body
	err := s.enc.Encode(&s.rec)
	s.rec = AvroEvent{}
	return err
}

func (s *avroSerializer) Flush() error {
	if s.enc == nil {
		return nil
	}
	return s.enc.Flush()
}

func (s *avroSerializer) BeforeClose() error {
	if s.enc == nil {
		return nil
	}
	return s.enc.Close()
}
