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
// Every frame is a 4-byte little-endian length followed by that many bytes:
// a type byte and the fields of that type (uvarints, varints, and strings as
// a uvarint length followed by the bytes). Decoding never panics and never
// allocates more than the frame's length: a malformed frame is an error that
// ends the one connection.
package repl
