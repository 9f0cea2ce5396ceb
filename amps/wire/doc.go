// Package wire is the AMPS `amps` protocol framing and header codec, shared by
// the client library and the server.
//
// A frame is a 4-byte big-endian length N followed by N bytes: a flat JSON
// header object and, immediately after it, the payload. A `sow` frame packs
// several records, each a header carrying `l` followed by that many bytes.
package wire
