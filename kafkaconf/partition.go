package kafkaconf

import (
	"context"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"

	"ampsflume/flume"
)

// Placement is how Flume's Kafka sink and channel choose a record's
// partition: partitionIdHeader names a header holding the partition number,
// defaultPartitionId is used when that header is absent, and otherwise the
// "key" header is hashed as Kafka's Java producer does (murmur2), or records
// without a key are spread by the sticky partitioner.
type Placement struct {
	PartitionIDHeader  string
	DefaultPartitionID int32 // -1: none
}

// ParsePlacement reads partitionIdHeader and defaultPartitionId.
func ParsePlacement(cfg *flume.Context) (Placement, error) {
	p := Placement{PartitionIDHeader: cfg.String("partitionIdHeader", ""), DefaultPartitionID: -1}
	if cfg.Has("defaultPartitionId") {
		v, err := cfg.IntRange("defaultPartitionId", -1, 0, 1<<31-1)
		if err != nil {
			return p, err
		}
		p.DefaultPartitionID = int32(v)
	}
	return p, nil
}

// KeyHeader is the header whose value becomes the record key.
const KeyHeader = "key"

// Record returns a record for e's value with the key and partition Flume
// would give it. A partition header that is not a number is an error naming
// the header, so the batch fails instead of landing somewhere unexpected.
func (p Placement) Record(topic string, e *flume.Event, value []byte) (*kgo.Record, error) {
	r := &kgo.Record{Topic: topic, Value: value}
	if k, ok := e.Headers[KeyHeader]; ok {
		r.Key = []byte(k)
	}
	part := p.DefaultPartitionID
	if p.PartitionIDHeader != "" {
		if v, ok := e.Headers[p.PartitionIDHeader]; ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 32)
			if err != nil || n < 0 {
				return nil, &PartitionHeaderError{Header: p.PartitionIDHeader, Value: v}
			}
			part = int32(n)
		}
	}
	if part >= 0 {
		r.Partition = part
		r.Context = context.WithValue(context.Background(), manualKey{}, true)
	}
	return r, nil
}

// PartitionHeaderError is a partition header that is not a partition number.
type PartitionHeaderError struct{ Header, Value string }

func (e *PartitionHeaderError) Error() string {
	return "partition header " + strconv.Quote(e.Header) + " value " + strconv.Quote(e.Value) + " is not a partition number"
}

type manualKey struct{}

func manual(r *kgo.Record) bool {
	return r.Context != nil && r.Context.Value(manualKey{}) != nil
}

// Partitioner honours partitions chosen by Placement.Record and otherwise
// partitions as Kafka's Java producer: murmur2 of the key, sticky for
// records without one. A chosen partition that does not exist fails the
// record.
func Partitioner() kgo.Partitioner { return partitioner{kgo.StickyKeyPartitioner(nil)} }

type partitioner struct{ def kgo.Partitioner }

func (p partitioner) ForTopic(t string) kgo.TopicPartitioner {
	return &topicPartitioner{def: p.def.ForTopic(t)}
}

type topicPartitioner struct{ def kgo.TopicPartitioner }

func (tp *topicPartitioner) RequiresConsistency(r *kgo.Record) bool {
	return manual(r) || tp.def.RequiresConsistency(r)
}

func (tp *topicPartitioner) Partition(r *kgo.Record, n int) int {
	if manual(r) {
		return int(r.Partition)
	}
	return tp.def.Partition(r, n)
}

// OnNewBatch lets the sticky partitioner move on to another partition.
func (tp *topicPartitioner) OnNewBatch() {
	if nb, ok := tp.def.(kgo.TopicPartitionerOnNewBatch); ok {
		nb.OnNewBatch()
	}
}
