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
//   - Acks are sent only when requested, with the reason strings AMPS
//     clients map to exceptions.
//
// Subscription options (subext.go): aggregated subscriptions
// (projection/grouping, a private view maintained incrementally from SOW
// record changes, see package aggregate), delta_publish merges and delta
// subscriptions (package delta), conflation (package conflate), oof
// messages (reasons deleted and match), no_sowkey, top_n/skip_n/orderby.
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
// Extension points: every live message to a subscription goes through
// subscription.deliver, and every SOW record change is reported in order to
// the observers registered with WithSOWObserver.
package ampserver
