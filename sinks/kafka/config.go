package kafka

import (
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"

	"ampsflume/flume"
	"ampsflume/kafkaconf"
)

// Spec declares the sink's type names and keys.
var Spec = flume.Spec{
	Alias: "kafka",
	Class: "org.apache.flume.sink.kafka.KafkaSink",
	Doc:   "Produces events to a Kafka topic; commits the channel transaction only after every record is acknowledged.",
	Keys: []flume.Key{
		{Name: "type", Type: "string", Required: true, Doc: "kafka or org.apache.flume.sink.kafka.KafkaSink"},
		{Name: "channel", Type: "string", Required: true, Doc: "Channel to drain."},
		{Name: "kafka.bootstrap.servers", Type: "string", Required: true, Doc: "Brokers to bootstrap from, host:port, comma separated."},
		{Name: "kafka.topic", Type: "string", Default: DefaultTopic, Doc: "Topic; %{header} is replaced by the event's header value."},
		{Name: "flumeBatchSize", Type: "int", Default: "100", ChannelChecked: true, Doc: "Events per transaction and produce batch."},
		{Name: "useFlumeEventFormat", Type: "bool", Default: "false", Doc: "Write the Avro AvroFlumeEvent (headers and body) instead of the body alone."},
		{Name: "allowTopicOverride", Type: "bool", Default: "true", Doc: "Let the topicHeader header choose the topic."},
		{Name: "topicHeader", Type: "string", Default: "topic", Doc: "Header naming the topic when allowTopicOverride is true."},
		{Name: "partitionIdHeader", Type: "string", Doc: "Header holding the partition number for the event."},
		{Name: "defaultPartitionId", Type: "int", Doc: "Partition for events without partitionIdHeader; unset: partition by key."},
		{Name: "kafka.producer.", Type: "string", Doc: "Kafka producer settings by their Java names (acks, linger.ms, compression.type, ...); unsupported ones are errors."},
	},
}

// DefaultTopic is Flume's default kafka.topic.
const DefaultTopic = "default-flume-topic"

// Config is the sink's configuration.
type Config struct {
	Brokers             []string
	Topic               string
	BatchSize           int
	UseFlumeEventFormat bool
	AllowTopicOverride  bool
	TopicHeader         string
	Placement           kafkaconf.Placement
	// Opts are extra client options (from kafka.producer.*).
	Opts []kgo.Opt
}

// ParseConfig reads the sink's keys, reporting every bad one.
func ParseConfig(ctx *flume.Context) (Config, error) {
	var c Config
	var errs flume.ConfigErrors
	var err error
	c.Brokers, err = kafkaconf.Brokers(ctx, "")
	errs.Add(err)
	c.Topic = strings.TrimSpace(ctx.String("kafka.topic", DefaultTopic))
	if c.Topic == "" {
		errs.Add(ctx.Errorf("kafka.topic", "must not be empty"))
	}
	bs, err := ctx.IntRange("flumeBatchSize", 100, 1, 1<<20)
	errs.Add(err)
	c.BatchSize = int(bs)
	c.UseFlumeEventFormat, err = ctx.Bool("useFlumeEventFormat", false)
	errs.Add(err)
	c.AllowTopicOverride, err = ctx.Bool("allowTopicOverride", true)
	errs.Add(err)
	c.TopicHeader = ctx.String("topicHeader", "topic")
	c.Placement, err = kafkaconf.ParsePlacement(ctx)
	errs.Add(err)
	c.Opts, err = kafkaconf.ProducerOptions(ctx, "1")
	errs.Add(err)
	return c, errs.Err()
}

// topicFor returns the topic of e.
func (c *Config) topicFor(e *flume.Event) string {
	if c.AllowTopicOverride {
		if t, ok := e.Headers[c.TopicHeader]; ok && t != "" {
			return t
		}
	}
	return substitute(c.Topic, e.Headers)
}

// substitute replaces each %{name} in s by the header's value (empty when
// absent), as Flume's escaping of kafka.topic does.
func substitute(s string, headers map[string]string) string {
	if !strings.Contains(s, "%{") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "%{")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		j := strings.IndexByte(s[i+2:], '}')
		if j < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		b.WriteString(headers[s[i+2:i+2+j]])
		s = s[i+3+j:]
	}
}
