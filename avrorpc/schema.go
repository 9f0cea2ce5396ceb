package avrorpc

import (
	"crypto/md5"

	"github.com/hamba/avro/v2"
)

// ProtocolJSON is Flume's AvroSourceProtocol in the compact JSON form Avro's
// Java implementation prints, so that its MD5 (the protocol hash exchanged in
// the handshake) has the best chance of matching a Java peer's. A peer whose
// hash differs still works: the handshake falls back to exchanging texts.
const ProtocolJSON = `{"protocol":"AvroSourceProtocol","namespace":"org.apache.flume.source.avro",` +
	`"types":[{"type":"enum","name":"Status","symbols":["OK","FAILED","UNKNOWN"]},` +
	`{"type":"record","name":"AvroFlumeEvent","fields":[{"name":"headers","type":{"type":"map","values":"string"}},` +
	`{"name":"body","type":"bytes"}]}],` +
	`"messages":{"append":{"request":[{"name":"event","type":"AvroFlumeEvent"}],"response":"Status"},` +
	`"appendBatch":{"request":[{"name":"events","type":{"type":"array","items":"AvroFlumeEvent"}}],"response":"Status"}}}`

// ProtocolHash is the MD5 of ProtocolJSON.
var ProtocolHash = md5.Sum([]byte(ProtocolJSON))

const eventSchemaJSON = `{"type":"record","name":"AvroFlumeEvent","namespace":"org.apache.flume.source.avro",` +
	`"fields":[{"name":"headers","type":{"type":"map","values":"string"}},{"name":"body","type":"bytes"}]}`

const handshakeRequestJSON = `{"type":"record","name":"HandshakeRequest","namespace":"org.apache.avro.ipc","fields":[` +
	`{"name":"clientHash","type":{"type":"fixed","name":"MD5","size":16}},` +
	`{"name":"clientProtocol","type":["null","string"]},` +
	`{"name":"serverHash","type":"MD5"},` +
	`{"name":"meta","type":["null",{"type":"map","values":"bytes"}]}]}`

const handshakeResponseJSON = `{"type":"record","name":"HandshakeResponse","namespace":"org.apache.avro.ipc","fields":[` +
	`{"name":"match","type":{"type":"enum","name":"HandshakeMatch","symbols":["BOTH","CLIENT","NONE"]}},` +
	`{"name":"serverProtocol","type":["null","string"]},` +
	`{"name":"serverHash","type":["null",{"type":"fixed","name":"MD5","size":16}]},` +
	`{"name":"meta","type":["null",{"type":"map","values":"bytes"}]}]}`

// MaxEventBytes bounds a single string or bytes value the decoder will
// allocate (a header value or an event body): large enough for any sane
// event, small enough that a corrupt length cannot exhaust memory.
const MaxEventBytes = 64 << 20

var (
	api = avro.Config{MaxByteSliceSize: MaxEventBytes, MaxSliceAllocSize: MaxEventBytes, DisableBlockSizeHeader: true}.Freeze()

	eventSchema             = avro.MustParse(eventSchemaJSON)
	eventArraySchema        = avro.NewArraySchema(eventSchema)
	handshakeRequestSchema  = avro.MustParse(handshakeRequestJSON)
	handshakeResponseSchema = avro.MustParse(handshakeResponseJSON)
	metaSchema              = avro.NewMapSchema(avro.NewPrimitiveSchema(avro.Bytes, nil))
)
