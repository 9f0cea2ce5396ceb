package kafka

import (
	"math"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"ampsflume/flume"
	"ampsflume/kafkaconf"
)

// Spec declares the channel's type names and keys.
var Spec = flume.Spec{
	Alias: "kafka",
	Class: "org.apache.flume.channel.kafka.KafkaChannel",
	Doc:   "Keeps events in a Kafka topic; takes commit consumer-group offsets.",
	Keys: []flume.Key{
		{Name: "type", Type: "string", Required: true, Doc: "kafka or org.apache.flume.channel.kafka.KafkaChannel"},
		{Name: "kafka.bootstrap.servers", Type: "string", Required: true, Doc: "Brokers to bootstrap from, host:port, comma separated."},
		{Name: "kafka.topic", Type: "string", Default: DefaultTopic, Doc: "Topic holding the channel's events."},
		{Name: "kafka.consumer.group.id", Type: "string", Default: DefaultGroup, Doc: "Consumer group; channels sharing it share the events."},
		{Name: "parseAsFlumeEvent", Type: "bool", Default: "true", Doc: "Store events as Avro AvroFlumeEvent (keeps headers); false stores bodies only."},
		{Name: "pollTimeout", Type: "duration(ms)", Default: "500", Doc: "How long a take waits for an event."},
		{Name: "partitionIdHeader", Type: "string", Doc: "Header holding the partition number of a put event."},
		{Name: "defaultPartitionId", Type: "int", Doc: "Partition for events without partitionIdHeader; unset: partition by key header."},
		{Name: "migrateZookeeperOffsets", Type: "bool", Default: "true", Doc: "Accepted for compatibility and ignored: offsets live in Kafka."},
		{Name: "capacity", Type: "int", Default: "0", Doc: "Extension: refuse puts when the group's lag would exceed this; 0 unbounded."},
		{Name: "transactionCapacity", Type: "int", Default: "0", Doc: "Extension: most events per transaction; 0 unbounded."},
		{Name: "kafka.producer.", Type: "string", Doc: "Kafka producer settings by their Java names; unsupported ones are errors."},
		{Name: "kafka.consumer.", Type: "string", Doc: "Kafka consumer settings by their Java names; unsupported ones are errors."},
	},
}

// Defaults of Flume's Kafka channel.
const (
	DefaultTopic = "flume-channel"
	DefaultGroup = "flume"
)

// Config is the channel's configuration.
type Config struct {
	Brokers             []string
	Topic               string
	Group               string
	ParseAsFlumeEvent   bool
	PollTimeout         time.Duration
	Placement           kafkaconf.Placement
	Capacity            int // 0: unbounded
	TransactionCapacity int // 0: unbounded
	ProducerOpts        []kgo.Opt
	ConsumerOpts        []kgo.Opt
}

// ParseConfig reads the channel's keys. Every invalid key is reported
// (joined), not only the first.
func ParseConfig(ctx *flume.Context) (Config, error) {
	var c Config
	var errs flume.ConfigErrors
	var err error
	c.Brokers, err = kafkaconf.Brokers(ctx, "")
	errs.Add(err)
	if c.Topic = strings.TrimSpace(ctx.String("kafka.topic", DefaultTopic)); c.Topic == "" {
		errs.Add(ctx.Errorf("kafka.topic", "must not be empty"))
	}
	if c.Group = strings.TrimSpace(ctx.String("kafka.consumer.group.id", DefaultGroup)); c.Group == "" {
		errs.Add(ctx.Errorf("kafka.consumer.group.id", "must not be empty"))
	}
	c.ParseAsFlumeEvent, err = ctx.Bool("parseAsFlumeEvent", true)
	errs.Add(err)
	c.PollTimeout, err = ctx.Duration("pollTimeout", 500*time.Millisecond, time.Millisecond)
	errs.Add(err)
	_, err = ctx.Bool("migrateZookeeperOffsets", true)
	errs.Add(err)
	c.Placement, err = kafkaconf.ParsePlacement(ctx)
	errs.Add(err)
	capacity, err := ctx.IntRange("capacity", 0, 0, math.MaxInt32)
	capBad := errs.Add(err)
	txCap, err := ctx.IntRange("transactionCapacity", 0, 0, math.MaxInt32)
	txBad := errs.Add(err)
	c.Capacity, c.TransactionCapacity = int(capacity), int(txCap)
	if !capBad && !txBad && c.Capacity > 0 && c.TransactionCapacity > c.Capacity {
		errs.Add(ctx.Errorf("transactionCapacity", "%d exceeds capacity %d", c.TransactionCapacity, c.Capacity))
	}
	c.ProducerOpts, err = kafkaconf.ProducerOptions(ctx, "all")
	errs.Add(err)
	c.ConsumerOpts, err = kafkaconf.ConsumerOptions(ctx)
	errs.Add(err)
	return c, errs.Err()
}
