// Package ampserver is an embeddable server that speaks the AMPS `amps`
// protocol to real AMPS clients over TCP, TLS and WebSocket: logon,
// publish, subscribe (literal or regex topics, content filters),
// State-of-the-World topics with queries, sow_and_subscribe, sow_delete,
// flush and heartbeats. It reads AMPS XML configuration files.
//
// Guarantees:
//   - Each subscriber sees the messages of one topic in publish order, and
//     each SOW query or sow_and_subscribe is atomic with respect to
//     publishes: a sow_and_subscribe sees every publish either in its
//     snapshot or live after group_end, never both and never neither.
//   - Persistent SOW topics (a FileName) survive a restart; writes reach
//     the operating system within 100ms and are synced at Shutdown.
//   - A client never blocks the server: its outbound queue is bounded in
//     bytes and a client past the bound is disconnected as a slow
//     consumer. A malformed frame closes only that client's connection.
//     A bookmark replay goes only as fast as its subscriber reads: it
//     pauses rather than queue more than 8 MiB for that client
//     (back-pressure, never a drop), so a replay neither disconnects a
//     client nor holds much of the journal in memory.
//   - Acks are sent only when requested, with the reason strings AMPS
//     clients map to exceptions.
//   - A message's timestamp (ts) is the time the server read its publish;
//     the timestamps of one topic's messages never go backwards unless
//     the system clock is set back.
//
// Bookmark ranges (bookmark_range.go): a bookmark subscription's bookmark
// may be "[start:end]", with '(' for an exclusive start and ')' for an
// exclusive end. The start is any bookmark a subscription accepts (EPOCH,
// NOW, a message bookmark, a timestamp, a list); the end is one message
// bookmark, one timestamp, or NOW (the journal's end when the subscription
// is placed), never EPOCH or a list. The subscription replays from the
// start to the end, sends its completed ack (if asked) when the end is
// reached, and is then removed: nothing more is delivered and its id is
// free. An end still to come is waited for on live messages: a timestamp
// end is reached when the server clock gets there (a message read just
// before it but fanned out after the timer fired is not delivered), a
// message bookmark end (single instance: a journal position) when the
// journal reaches it. Replicating, a bookmark end must name a message
// this instance already has.
//
// Historical SOW queries (historical_sow.go): a sow with a bookmark (`bm`)
// answers from the topic's state at that point: just after a message
// bookmark, just before a timestamp; EPOCH gives nothing and NOW the
// latest journaled state. The state is rebuilt per query from the
// transaction log (the topic must be journaled; records the log no longer
// holds are not seen), bounded to 64 MiB of keys and payloads (a larger
// state is refused with "txn replay failed"), and then filtered, ordered
// and cut as a normal query. Lists, ranges and regex topics are refused;
// sow_and_subscribe with a bookmark is not supported.
//
// Subscription options (subext.go): aggregated subscriptions
// (projection/grouping, a private view maintained incrementally from SOW
// record changes, see package aggregate), delta_publish merges and delta
// subscriptions (package delta), conflation (package conflate), oof
// messages (reasons deleted, expired and match), no_sowkey, top_n/skip_n/orderby.
// Conflation holds the first update of a key for one interval and delivers
// the latest one at first-hold + interval, by a timer on the server clock;
// an update arriving at the very instant its key falls due, or up to a
// twentieth of the interval before it (scheduling jitter), is delivered
// after the due one and starts a new interval. With the article's example
// (one publish per second, conflation=1s) this is what yields one output
// per matching publish, MSFT orders 1 and 2 included, 1 s apart; the SOW
// query part is never conflated. For aggregated subscriptions the
// conflation key is the group.
//
// Views and message enrichment (view.go, enrich.go, fields.go): a <View>
// in <SOW> is a read-only SOW topic aggregating another SOW topic (or view),
// one record per group, updated under the underlying topic's lock before the
// publish that changed it is acknowledged, and rebuilt from the underlying
// SOW at start. A SOW topic's <Preprocessing> fields are constructed before
// its key is computed, its <Enrichment> fields after (with OF PREVIOUS
// reading the stored record) and before a delta merge; the SOW, journal,
// views and subscribers see the processed message, whose existing fields
// keep their place while new ones are appended.
//
// SOW expiration (expiration.go): a SOW topic's <Expiration> is disabled
// (the default), enabled, or a default lifetime (30s, 5m, 1h, 1d). On a
// topic with expiration enabled a publish's `e` header (whole seconds, 0:
// never) overrides the default for the record it stores; elsewhere `e` is
// ignored, as in AMPS. Every publish sets the record's lifetime again. An
// expired record leaves the SOW as a delete does (views and observers see a
// delete; RecordChange.Expired is set), and `oof` subscriptions holding it
// receive an oof with reason expired and its last state. One server timer,
// armed for the earliest expiry over a min-heap per topic, removes records;
// until it runs, queries already leave an expired record out and a publish
// to its key is an insert. Query results carry `e` on records that expire
// (seconds left, rounded up). Persistent SOW files keep expiry times, and
// records that expired while the server was down are gone at start; records
// rebuilt from the transaction log or replicated from a peer take the
// topic's default lifetime from their publish time (neither carries `e`).
//
// Compression (compress.go): a Transport with <Compression>zlib</Compression>
// reads and writes each connection as one raw-deflate stream per direction,
// for clients that connect with compression=zlib; each batch of frames the
// writer takes is compressed and flushed once. A transport without it
// checks that a connection's first frame header starts with '{', so a
// compressed client is refused at once rather than read as a frame length;
// invalid deflate closes that one connection. WebSocket and replication
// transports do not take compression.
//
// Message queues (queue.go, queue_config.go): a <Queue> in <SOW> (Name,
// MessageType, UnderlyingTopic defaulting to the Name, LeasePeriod
// defaulting to 5m) is a queue over the journaled publishes of its
// underlying topic, which the TransactionLog must record (a configuration
// error says so otherwise). A message is delivered only after it is
// durable in the transaction log (the group commit, every FlushInterval;
// the local disk, not sync replication destinations), so a bookmark a
// consumer holds always names a message that survives a crash: a journal
// tail lost to a kill, whose sequence numbers and so bookmarks the
// restarted journal gives to new messages, was never handed out, and an
// acknowledgement cannot remove the new message by mistake. Until then
// the message waits in its place, hidden from sow queries on the queue.
// Delivery is at least once: each message is leased to one subscription
// at a time, round-robin over those with room
// in their max_backlog (default 1, echoed in the subscribe ack's opts),
// with `bm` and `lp` (the lease end as a timestamp); a sow_delete with a
// `bm` list acknowledges it, and a lease end, unsubscribe or disconnect
// puts it back to be delivered again. Acknowledgements are appended to
// <JournalDirectory>/queue-acks, so a restart rebuilds each queue from the
// journal without them; leases do not survive a restart. The rest of the
// decisions are in queue.go.
//
// Extension points: every live message to a subscription goes through
// subscription.deliver, and every SOW record change is reported in order to
// the observers registered with WithSOWObserver.
//
// Replication and HA (replication*.go, package repl): a <Replication>
// section sends the journaled messages published to this instance to each
// <Destination> over an amps-replication link; an incoming amps-replication
// transport receives a peer's. Two instances replicating to each other form
// a hot-hot pair:
//   - Each message is in both journals and SOWs exactly once. A record keeps
//     its origin instance and is never sent on from the instance it was
//     replicated to; a receiver drops a record it already has, by origin
//     sequence number (the link resumes after the last one the receiver
//     persisted, which it keeps in <JournalDirectory>/replication-<peer>.pos)
//     and by publisher name and `s`, the same check as for republished
//     messages, shared by the pair: a publisher that fails over and re-sends
//     to the other instance what was already replicated has it dropped there.
//   - With SyncType sync, a publish's persisted ack waits until every
//     connected sync destination has persisted it. A destination that is not
//     connected does not hold acks back (it catches up when it returns).
//   - Both ends of a link heartbeat (replication_heartbeat.go): an end that
//     wrote nothing for a <HeartbeatInterval> (in <Replication>, or per
//     <Destination>; AMPS interval syntax, default 1s) sends a heartbeat
//     announcing its interval, and an end that hears nothing for
//     ReplicationHeartbeatMisses (3) of its peer's intervals closes the link:
//     a peer that vanished without closing TCP (a partition, a frozen
//     machine, a stopped process) is detected within 3 to 4 intervals. A
//     destination declared dead counts as not connected from that moment,
//     so sync acks stop waiting for it; the sender reconnects with its usual
//     back-off and resumes from the destination's persisted position. Time
//     is the server's Clock. Heartbeats need link protocol version 2 on both
//     ends: an instance of version 1 refuses a version-2 Hello, and the
//     sender then offers it version 1, a link without heartbeats (as
//     before); a version-1 sender is accepted and not expected to beat.
//   - Bookmarks are the same on both instances. Replicating, a message's
//     bookmark is "<hash of the publisher's name>|<publisher sequence>|",
//     where the publisher sequence is the publish's `s` (or, for a publish
//     without one, the next number after the publisher's last). Because the
//     server drops any publish whose `s` is not above the publisher's last,
//     every journal holds each publisher's messages in increasing sequence
//     order, which is what a client bookmark store assumes per publisher.
//     The two journals may interleave publishers differently, so a bookmark
//     list is resolved per publisher (replication_resume.go), and a
//     subscription resumes on either instance without loss: each publisher
//     named in the list resumes after that publisher's message, even one the
//     instance never had (a publisher lost it in a crash and re-sent it under
//     the same `s` elsewhere); a publisher absent from the list is replayed
//     from its first message on a topic the subscription covers, since the
//     list does not say which of its messages the subscriber has. Those it
//     already received are duplicates its bookmark store drops (a store
//     drops, per publisher, every sequence number up to the highest it
//     received; after a restart, those it received but did not discard are
//     delivered again, as they must be). A subscription that did not start
//     at EPOCH may, after a resume, also receive messages of a publisher it
//     had received nothing from that predate its start: more than it asked
//     for, never less. A list that also holds EPOCH, NOW or a timestamp
//     takes that as the start for the publishers absent from it. Without
//     replication bookmarks keep the journal sequence number, and a list
//     resumes at its earliest position (one journal, one order).
//   - Peers authenticate with the Replication <Secret> (or, without one,
//     against the server's password file with the user:password of the
//     destination's InetAddr); links use TLS when the incoming transport has
//     a Certificate and PrivateKey and the destination sets <TLS>.
//   - SOW deletes are replicated; messages of topics outside the
//     transaction log are not (as in AMPS).
package ampserver
