// Package wire is the AMPS `amps` protocol framing and header codec, shared by
// the client library and the server.
//
// A frame is a 4-byte big-endian length N followed by N bytes: a flat JSON
// header object and, immediately after it, the payload. A `sow` frame packs
// several records, each a header carrying `l` followed by that many bytes.
//
// Guarantees: ParseHeader accepts every documented alias of a field and
// ignores unknown keys, never allocates per key or per number (only the string
// values it keeps), and reports any malformed input as a *FrameError, never a
// panic. AppendHeader emits only the canonical short keys that the C-family
// clients know (an unknown key makes them drop the connection), writes `s` as
// an unquoted number that is never the last key, and does not allocate beyond
// growing dst. Reader never holds more than one frame and never allocates
// more than the bytes that actually arrived plus a bounded step, whatever
// length a peer announces.
package wire
