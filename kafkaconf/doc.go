// Package kafkaconf turns the Kafka settings of Flume's Kafka channel and
// sink — kafka.bootstrap.servers and the kafka.producer.* and
// kafka.consumer.* pass-through keys, named as in the Java clients — into
// franz-go client options. A Java setting franz-go has no equivalent for is a
// configuration error naming the key, never silently dropped; settings that
// only tune the Java client's internals and have no effect on behaviour
// (serializer classes Flume itself fixes, for example) are accepted and
// ignored, as listed in Ignored.
package kafkaconf
