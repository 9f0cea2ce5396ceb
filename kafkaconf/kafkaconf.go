package kafkaconf

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"ampsflume/flume"
)

// Brokers reads kafka.bootstrap.servers (host:port, comma separated).
// legacy, when not empty, is an older key accepted in its place (the Kafka
// sink's brokerList).
func Brokers(cfg *flume.Context, legacy string) ([]string, error) {
	key := "kafka.bootstrap.servers"
	if !cfg.Has(key) && legacy != "" && cfg.Has(legacy) {
		key = legacy
	}
	v, err := cfg.RequiredString(key)
	if err != nil {
		return nil, err
	}
	var out, bad []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			if !strings.Contains(s, ":") {
				bad = append(bad, strconv.Quote(s))
				continue
			}
			out = append(out, s)
		}
	}
	if len(bad) > 0 {
		// One problem for the key, naming every bad entry.
		return nil, cfg.Errorf(key, "%s is not host:port", strings.Join(bad, ", "))
	}
	if len(out) == 0 {
		return nil, cfg.Errorf(key, "no broker given")
	}
	return out, nil
}

// Ignored lists Java client settings accepted without effect: Flume sets the
// serializers itself, and the rest size Java-side buffers that franz-go
// manages on its own.
var Ignored = map[string]bool{
	"key.serializer":          true,
	"value.serializer":        true,
	"key.deserializer":        true,
	"value.deserializer":      true,
	"send.buffer.bytes":       true,
	"receive.buffer.bytes":    true,
	"enable.auto.commit":      true, // the channel always commits explicitly
	"auto.commit.interval.ms": true,
}

// setting maps one Java key to a franz-go option.
type setting func(cfg *flume.Context, key, val string) (kgo.Opt, error)

func ms(fn func(time.Duration) kgo.Opt) setting {
	return func(cfg *flume.Context, key, val string) (kgo.Opt, error) {
		n, err := strconv.ParseInt(strings.TrimSpace(val), 10, 64)
		if err != nil || n < 0 {
			return nil, cfg.Errorf(key, "%q is not a non-negative number of milliseconds", val)
		}
		return fn(time.Duration(n) * time.Millisecond), nil
	}
}

func positive(fn func(int) kgo.Opt) setting {
	return func(cfg *flume.Context, key, val string) (kgo.Opt, error) {
		n, err := strconv.Atoi(strings.TrimSpace(val))
		if err != nil || n <= 0 {
			return nil, cfg.Errorf(key, "%q is not a positive integer", val)
		}
		return fn(n), nil
	}
}

func str(fn func(string) kgo.Opt) setting {
	return func(cfg *flume.Context, key, val string) (kgo.Opt, error) {
		return fn(strings.TrimSpace(val)), nil
	}
}

var common = map[string]setting{
	"client.id":                          str(func(s string) kgo.Opt { return kgo.ClientID(s) }),
	"request.timeout.ms":                 ms(func(d time.Duration) kgo.Opt { return kgo.RequestTimeoutOverhead(d) }),
	"connections.max.idle.ms":            ms(func(d time.Duration) kgo.Opt { return kgo.ConnIdleTimeout(d) }),
	"metadata.max.age.ms":                ms(func(d time.Duration) kgo.Opt { return kgo.MetadataMaxAge(d) }),
	"socket.connection.setup.timeout.ms": ms(func(d time.Duration) kgo.Opt { return kgo.DialTimeout(d) }),
	"retry.backoff.ms": ms(func(d time.Duration) kgo.Opt {
		return kgo.RetryBackoffFn(func(int) time.Duration { return d })
	}),
	"security.protocol": func(cfg *flume.Context, key, val string) (kgo.Opt, error) {
		switch strings.ToUpper(strings.TrimSpace(val)) {
		case "PLAINTEXT":
			return nil, nil
		case "SSL":
			return kgo.DialTLS(), nil
		}
		return nil, cfg.Errorf(key, "%q is not supported (PLAINTEXT or SSL)", val)
	},
}

var producer = map[string]setting{
	"linger.ms":           ms(func(d time.Duration) kgo.Opt { return kgo.ProducerLinger(d) }),
	"batch.size":          positive(func(n int) kgo.Opt { return kgo.ProducerBatchMaxBytes(int32(n)) }),
	"max.request.size":    positive(func(n int) kgo.Opt { return kgo.BrokerMaxWriteBytes(int32(n)) }),
	"buffer.memory":       positive(func(n int) kgo.Opt { return kgo.MaxBufferedBytes(n) }),
	"retries":             positive(func(n int) kgo.Opt { return kgo.RecordRetries(n) }),
	"delivery.timeout.ms": ms(func(d time.Duration) kgo.Opt { return kgo.RecordDeliveryTimeout(d) }),
	"max.in.flight.requests.per.connection": positive(func(n int) kgo.Opt {
		return kgo.MaxProduceRequestsInflightPerBroker(n)
	}),
	"compression.type": func(cfg *flume.Context, key, val string) (kgo.Opt, error) {
		var c kgo.CompressionCodec
		switch strings.ToLower(strings.TrimSpace(val)) {
		case "none":
			c = kgo.NoCompression()
		case "gzip":
			c = kgo.GzipCompression()
		case "snappy":
			c = kgo.SnappyCompression()
		case "lz4":
			c = kgo.Lz4Compression()
		case "zstd":
			c = kgo.ZstdCompression()
		default:
			return nil, cfg.Errorf(key, "%q is not none, gzip, snappy, lz4 or zstd", val)
		}
		return kgo.ProducerBatchCompression(c), nil
	},
	"enable.idempotence": func(cfg *flume.Context, key, val string) (kgo.Opt, error) {
		switch strings.ToLower(strings.TrimSpace(val)) {
		case "true":
			return nil, nil
		case "false":
			return kgo.DisableIdempotentWrite(), nil
		}
		return nil, cfg.Errorf(key, "%q is not true or false", val)
	},
}

var consumer = map[string]setting{
	"session.timeout.ms":    ms(func(d time.Duration) kgo.Opt { return kgo.SessionTimeout(d) }),
	"heartbeat.interval.ms": ms(func(d time.Duration) kgo.Opt { return kgo.HeartbeatInterval(d) }),
	"max.poll.interval.ms":  ms(func(d time.Duration) kgo.Opt { return kgo.RebalanceTimeout(d) }),
	"fetch.max.wait.ms":     ms(func(d time.Duration) kgo.Opt { return kgo.FetchMaxWait(d) }),
	"fetch.min.bytes":       positive(func(n int) kgo.Opt { return kgo.FetchMinBytes(int32(n)) }),
	"fetch.max.bytes":       positive(func(n int) kgo.Opt { return kgo.FetchMaxBytes(int32(n)) }),
	"max.partition.fetch.bytes": positive(func(n int) kgo.Opt {
		return kgo.FetchMaxPartitionBytes(int32(n))
	}),
	"group.instance.id": str(func(s string) kgo.Opt { return kgo.InstanceID(s) }),
	"client.rack":       str(func(s string) kgo.Opt { return kgo.Rack(s) }),
	"isolation.level": func(cfg *flume.Context, key, val string) (kgo.Opt, error) {
		switch strings.ToLower(strings.TrimSpace(val)) {
		case "read_uncommitted":
			return kgo.FetchIsolationLevel(kgo.ReadUncommitted()), nil
		case "read_committed":
			return kgo.FetchIsolationLevel(kgo.ReadCommitted()), nil
		}
		return nil, cfg.Errorf(key, "%q is not read_uncommitted or read_committed", val)
	},
	"auto.offset.reset": func(cfg *flume.Context, key, val string) (kgo.Opt, error) {
		switch strings.ToLower(strings.TrimSpace(val)) {
		case "earliest":
			return kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), nil
		case "latest":
			return kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()), nil
		case "none":
			return kgo.ConsumeResetOffset(kgo.NoResetOffset()), nil
		}
		return nil, cfg.Errorf(key, "%q is not earliest, latest or none", val)
	},
	"partition.assignment.strategy": func(cfg *flume.Context, key, val string) (kgo.Opt, error) {
		var bs []kgo.GroupBalancer
		for _, name := range strings.Split(val, ",") {
			name = strings.TrimSpace(name)
			switch name[strings.LastIndex(name, ".")+1:] {
			case "RangeAssignor":
				bs = append(bs, kgo.RangeBalancer())
			case "RoundRobinAssignor":
				bs = append(bs, kgo.RoundRobinBalancer())
			case "StickyAssignor":
				bs = append(bs, kgo.StickyBalancer())
			case "CooperativeStickyAssignor":
				bs = append(bs, kgo.CooperativeStickyBalancer())
			default:
				return nil, cfg.Errorf(key, "assignor %q is not supported (Range, RoundRobin, Sticky or CooperativeSticky)", name)
			}
		}
		return kgo.Balancers(bs...), nil
	},
}

// ProducerOptions maps the kafka.producer.* keys of cfg to client options.
// defaultAcks ("1" or "all") applies when kafka.producer.acks is not set.
// Fewer than all acknowledgements turn idempotent writes off, which
// franz-go requires for them.
func ProducerOptions(cfg *flume.Context, defaultAcks string) ([]kgo.Opt, error) {
	opts, err := options(cfg, "kafka.producer.", producer)
	acks := cfg.String("kafka.producer.acks", defaultAcks)
	switch strings.ToLower(strings.TrimSpace(acks)) {
	case "0":
		opts = append(opts, kgo.RequiredAcks(kgo.NoAck()), kgo.DisableIdempotentWrite())
	case "1":
		opts = append(opts, kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite())
	case "all", "-1":
		opts = append(opts, kgo.RequiredAcks(kgo.AllISRAcks()))
	default:
		err = errors.Join(err, cfg.Errorf("kafka.producer.acks", "%q is not 0, 1, all or -1", acks))
	}
	if err != nil {
		return nil, err
	}
	return opts, nil
}

// ConsumerOptions maps the kafka.consumer.* keys of cfg, except group.id,
// which the caller reads, to client options.
func ConsumerOptions(cfg *flume.Context) ([]kgo.Opt, error) {
	return options(cfg, "kafka.consumer.", consumer)
}

// options reports every unsupported or malformed key (joined), not only the
// first.
func options(cfg *flume.Context, prefix string, specific map[string]setting) ([]kgo.Opt, error) {
	var opts []kgo.Opt
	var errs flume.ConfigErrors
	for _, full := range cfg.Keys() {
		key, ok := strings.CutPrefix(full, prefix)
		if !ok || key == "group.id" || key == "acks" || Ignored[key] {
			continue
		}
		fn := specific[key]
		if fn == nil {
			fn = common[key]
		}
		if fn == nil {
			errs.Add(cfg.Errorf(full, "Kafka setting %q is not supported by this client; remove it", key))
			continue
		}
		p, _ := cfg.Lookup(full)
		opt, err := fn(cfg, full, p.Value)
		if errs.Add(err) {
			continue
		}
		if opt != nil {
			opts = append(opts, opt)
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return opts, nil
}
