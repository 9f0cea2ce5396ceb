// Package kafka is Flume's Kafka channel (type
// org.apache.flume.channel.kafka.KafkaChannel, alias kafka): the queue is a
// Kafka topic, so events survive the agent and can be shared by agents in the
// same consumer group.
//
// Guarantees:
//   - A put transaction's events are produced at Commit; Commit returns only
//     after Kafka acknowledged every record (acks=all by default), and fails
//     with a *flume.ChannelError otherwise. Events of a failed commit may be
//     partly in Kafka: as in Flume, a retry can duplicate them.
//   - A take transaction's Commit commits the consumer group's offsets
//     synchronously, up to (not past) the oldest record still taken by an
//     open transaction or fetched and not yet taken. A rollback returns the
//     taken records to the head of the channel, which is what seeking back to
//     the last committed offsets would redeliver, without refetching them.
//   - A new channel instance in the same group (a restart, or another agent)
//     resumes from the committed offsets: events taken but not committed are
//     delivered again, nothing committed to the topic is lost. Events may be
//     duplicated after a crash or a group rebalance (at-least-once).
//   - Order is FIFO per partition. Size is the group's lag on the topic
//     (records produced but not committed by the group). Kafka has no
//     capacity; the optional capacity key bounds that lag, refusing put
//     commits with flume.ErrChannelFull, checked against the broker before
//     each put commit (exact for one agent, approximate across agents).
package kafka
