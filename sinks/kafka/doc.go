// Package kafka is Flume's Kafka sink (type org.apache.flume.sink.kafka.KafkaSink,
// alias kafka): it takes up to flumeBatchSize events from its channel in one
// transaction, produces them to Kafka with franz-go, waits until every record
// is acknowledged (kafka.producer.acks, 1 by default as in Flume), and only
// then commits the transaction. Any failure — a record Kafka refused, an
// unreachable broker, a bad partition header — rolls the transaction back, so
// the events stay in the channel and the next attempt sends them again:
// delivery is at least once, and a retried batch may duplicate records that
// were written before the failure.
//
// The topic is kafka.topic with %{header} references replaced by header
// values, unless allowTopicOverride is true and the event carries the
// topicHeader header. The "key" header becomes the record key; partitions
// follow partitionIdHeader and defaultPartitionId. With useFlumeEventFormat
// the record value is the Avro AvroFlumeEvent (headers and body), otherwise
// the body alone.
package kafka
