// Package amps is a client for AMPS-compatible servers speaking the `amps`
// protocol (JSON headers) over TCP, TLS (tcps) or WebSocket (ws, wss; framed
// as AMPS's JavaScript client does).
//
// A Client owns at most one connection at a time. Connect dials a URI of the
// form tcp://[user[:password]@]host:port/amps[/messagetype], Logon
// authenticates, and the command methods (Publish, Subscribe, Sow,
// SowAndSubscribe, SowDelete, Unsubscribe, Flush, and the generic Execute)
// send commands whose ids the client assigns: every command gets a unique
// cid, subscribe-type commands get sub_id = cid unless one is given, and
// sow-type commands get query_id and a default batch size of 10.
//
// URI options: compression=zlib makes the connection one raw-deflate stream
// in each direction (no zlib header), flushed once per batch of frames the
// writer sends; the server's transport must take compressed clients (in
// ampserver, <Compression>zlib</Compression>), and a server that does not is
// reported as ErrCompression. WebSocket URIs refuse the option: a WebSocket
// frames messages itself.
//
// # Delivery and back-pressure
//
// One goroutine per connection reads frames and routes each message by
// query_id, then every id of sids, then sub_id, then cid. A message for a
// MessageStream is put into the stream's bounded buffer; when that buffer is
// full the reader waits, stops reading the socket, and TCP flow control pushes
// back on the server. Nothing is dropped. A message for a handler is handed to
// the handler on the reader goroutine, so a slow handler pushes back the same
// way. The price is head-of-line blocking: while one consumer is stalled, no
// message for any other subscription of the same connection is read either,
// and a command waiting for its ack waits as well (commands take a context so
// that such a wait can be bounded).
//
// A Message owns its payload and header: it stays valid after the handler
// returns or the stream hands it over, and may be kept. A handler that keeps
// nothing can say so with ExecuteHandlerBorrowed: its deliveries are then lent,
// the Message reused for the next delivery and Data read in place from the
// connection's buffer, valid only until the handler returns (header strings
// stay valid), which saves an allocation and a copy per message. An HAClient
// subscription can be lent the same way (HAClient.SubscribeBorrowed): its
// handler runs on the reader goroutine of each connection in turn, with the
// same back-pressure, and the resubscription after a failover starts at the
// bookmark its resume function returns then.
//
// Heartbeats must survive a stalled consumer. The client therefore sends its
// `beat` on a timer of its own, independent of the reader, so the server keeps
// seeing traffic while the reader is blocked; and the silence timeout (twice
// the heartbeat interval unless set) only runs while the reader is actually
// waiting for bytes from the network, never while it waits for a consumer.
// Consequently a dead server is detected only once consumers let the reader
// run again.
//
// # Reuse by wrappers
//
// Commands are plain values: Execute never modifies the caller's Command, so
// a wrapper (an HA client) can keep them and execute them again on a new
// connection. OnDisconnect reports every connection loss that Close did not
// cause, and after such a loss Connect and Logon may be called again on the
// same Client. OnPersisted reports the conflated persisted acks of publishes,
// and Send writes a command without registering or waiting for it (queue
// acknowledgements from inside a consumer loop, for example).
//
// # Publishing through failovers
//
// An HAClient given WithPublishStore (MemoryPublishStore, or
// FilePublishStore to survive a restart of the publisher) numbers every
// Publish, keeps it until the server acknowledges it as persisted, and after
// each reconnection (to the same server or to the other instance of a
// replicated pair) discards what the logon ack says the server has and
// re-sends the rest, in order and with their original numbers, before any
// new publish. The servers drop the numbers they already have, so nothing is
// lost or duplicated; WaitPersisted waits until the store is empty.
//
// # Errors
//
// A failed command returns a *CommandError carrying the server's reason. It
// wraps one of the Err* sentinels when the reason is one of the strings AMPS
// defines, so errors.Is(err, amps.ErrNameInUse) works.
package amps
