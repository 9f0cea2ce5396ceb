// Package sql is Flume's JDBC channel (type "jdbc",
// org.apache.flume.channel.jdbc.JdbcChannel): a durable channel whose events
// are rows of a relational table. Flume embeds Derby; this channel embeds
// SQLite (pure Go, modernc.org/sqlite) by default and uses PostgreSQL (pgx)
// when driver.url names a server.
//
// Key mapping from Flume's JDBC channel:
//   - db.type: DERBY (the default) and SQLITE select the embedded SQLite file,
//     POSTGRESQL a server; MYSQL and others are refused.
//   - driver.url: postgres:// and jdbc:postgresql:// URLs select PostgreSQL
//     (JDBC's user and password parameters become the URL's credentials);
//     jdbc:sqlite:<file> names the SQLite file; jdbc:derby:<dir>;... maps to
//     the file jdbc-channel.sqlite inside <dir>. Without driver.url the file
//     is path (default ~/.flume/jdbc-channel/<channel>.sqlite).
//   - db.username and db.password override the URL's credentials
//     (PostgreSQL only).
//   - maximum.capacity (0 = unlimited) is capacity; transactionCapacity and
//     keep-alive are as in the other channels; maximum.connections sizes the
//     PostgreSQL pool; create.schema creates missing tables.
//   - driver.class, create.index, create.foreignkey, transaction.isolation,
//     connection.properties.file and sysprop.* are accepted and ignored.
//
// Schema: flume_event(channel, id, headers, body) with primary key
// (channel, id), headers in a compact binary encoding that keeps any bytes;
// on PostgreSQL also the sequence flume_event_id_seq and
// flume_channel(name, size). Rows are keyed by the channel's name, so
// several channels may share one PostgreSQL database; renaming a channel
// leaves its old rows behind.
//
// Guarantees:
//   - Puts are visible to takers only after Commit, which writes them in one
//     database transaction; once Commit returns they survive a crash (SQLite
//     runs in WAL mode with synchronous=FULL).
//   - Each event gets an id from a counter that only grows, allocated at
//     commit while commits of the channel are serialized, so ids follow
//     commit order. Takers always get the lowest id not held by another open
//     transaction: delivery is FIFO.
//   - Takes are final at Commit, which deletes the rows. Rollback (or a
//     crash of the process) releases them, and since they keep their ids
//     they are taken again before anything newer.
//   - capacity bounds the events held, counting those taken by open
//     transactions. A commit that does not fit waits up to keep-alive for
//     room and then fails with an error matching flume.ErrChannelFull,
//     keeping nothing of the transaction.
//   - SQLite: the file is locked exclusively for as long as the channel
//     runs, so one process (and one channel) owns it; claims are serialized
//     in process over an index of ids rebuilt from the table at start.
//     Size counts the events not taken by an open transaction.
//   - PostgreSQL: a take is SELECT ... FOR UPDATE SKIP LOCKED in the
//     transaction's own database transaction, so several agents may drain
//     one channel table without getting the same event; waiting takers look
//     again every 100 ms for rows committed by other processes. Size counts
//     every row, including those taken by open transactions.
//
// Nothing is cached in process that a crash could lose: staged puts were
// never committed, and claims are released by the database (PostgreSQL) or
// rebuilt from the table (SQLite).
package sql
