package interceptors

import (
	"crypto/rand"
	"encoding/hex"

	"ampsflume/flume"
)

// UUIDSpec declares the uuid interceptor, which Flume ships with its
// morphline Solr sink and which is configured by class name there.
var UUIDSpec = flume.Spec{
	Alias: "uuid",
	Class: "org.apache.flume.sink.solr.morphline.UUIDInterceptor$Builder",
	Doc:   "Sets a header to a random (version 4) UUID, optionally prefixed.",
	Keys: []flume.Key{
		typeKey,
		{Name: "headerName", Type: "string", Default: "id", Doc: "Header to set."},
		{Name: "preserveExisting", Type: "bool", Default: "true", Doc: "Keep the header if the event already has it."},
		{Name: "prefix", Type: "string", Default: "", Doc: "Text put before the UUID."},
	},
}

func init() {
	flume.RegisterInterceptor(UUIDSpec, func(env flume.InterceptorEnv) (flume.Interceptor, error) {
		preserve, err := env.Config.Bool("preserveExisting", true)
		if err != nil {
			return nil, err
		}
		header, prefix := env.Config.String("headerName", "id"), env.Config.String("prefix", "")
		return interceptorFunc(func(e *flume.Event) *flume.Event {
			if preserve {
				if _, ok := e.Headers[header]; ok {
					return e
				}
			}
			e.Headers[header] = prefix + newUUID()
			return e
		}), nil
	})
}

// newUUID returns a random RFC 4122 version 4 UUID in its text form.
func newUUID() string {
	var u [16]byte
	_, _ = rand.Read(u[:]) // crypto/rand.Read never fails
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}
