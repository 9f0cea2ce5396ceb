// Package repl is the wire format of the link between two replicating
// AMPS-compatible server instances (transport type amps-replication).
//
// The link is one TCP (or TLS) connection per direction of replication: the
// sending instance dials the receiving instance's amps-replication
// transport, introduces itself with a Hello (instance name and credentials),
// and the receiver answers with a Welcome naming the last origin sequence
// number it has persisted from that sender (0: none). The sender then
// streams Records in its journal order, starting after that number, and the
// receiver answers with Acks naming the highest origin sequence number it has
// persisted (in its own journal, on disk). A receiver that refuses the
// sender answers Refused with a reason and closes the connection.
//
// From version 2, both ends heartbeat: the sender follows its Hello, and the
// receiver its Welcome, with a Heartbeat frame, and each sends another in
// every interval in which it wrote nothing else. A Heartbeat carries its
// sender's interval, so that the other end knows how long a silence means
// the peer is gone. A receiver accepts version 1 (MinVersion) and then
// neither sends nor expects heartbeats; a receiver of version 1 refuses a
// version-2 Hello with a reason beginning "unsupported version", after
// which a sender offers version 1 until that link ends.
//
// Every frame is a 4-byte little-endian length followed by that many bytes:
// a type byte and the fields of that type (uvarints, varints, and strings as
// a uvarint length followed by the bytes). Decoding never panics and never
// allocates more than the frame's length: a malformed frame is an error that
// ends the one connection.
package repl
