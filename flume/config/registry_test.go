package config

import "ampsflume/flume"

// The config tests register specs only (no factories run here) under the
// names the example configuration uses.
func init() {
	flume.RegisterChannel(flume.Spec{Alias: "memory", Class: "org.apache.flume.channel.MemoryChannel", Keys: []flume.Key{
		{Name: "capacity", Type: "int", Default: "100"},
		{Name: "transactionCapacity", Type: "int", Default: "100"},
		{Name: "keep-alive", Type: "int", Default: "3"},
		{Name: "byteCapacity", Type: "int"},
	}}, nil)
	flume.RegisterChannel(flume.Spec{Alias: "file", Keys: []flume.Key{
		{Name: "transactionCapacity", Type: "int", Default: "10000"},
		{Name: "dataDirs", Type: "string"},
	}}, nil)
	flume.RegisterSource(flume.Spec{Alias: "amps", Class: "com.crankuptheamps.flume.AMPSFlumeSource", Keys: []flume.Key{
		{Name: "clientFactoryClass"}, {Name: "clientName", Required: true}, {Name: "bookmarkLog"},
		{Name: "uri"}, {Name: "uri1"}, {Name: "uri2"}, {Name: "uri3"}, {Name: "command"}, {Name: "topic"},
		{Name: "filter"}, {Name: "options"}, {Name: "subscriptionId"},
		{Name: "maxBuffers", Type: "int", Default: "10"},
		{Name: "maxBatch", Type: "int", Default: "1000"},
		{Name: "pruneTimeThreshold", Type: "int", Default: "300000"},
	}}, nil)
	flume.RegisterSource(flume.Spec{Alias: "seq", Keys: []flume.Key{
		{Name: "batchSize", Type: "int", Default: "1"},
		{Name: "totalEvents", Type: "int"},
	}}, nil)
	flume.RegisterSink(flume.Spec{Alias: "file_roll", Keys: []flume.Key{
		{Name: "sink.directory", Required: true},
		{Name: "sink.rollInterval", Default: "30"},
		{Name: "sink.batchSize", Default: "100"},
		{Name: "sink.serializer."},
		{Name: "sink.serializer"},
	}}, nil)
	flume.RegisterSink(flume.Spec{Alias: "logger", Keys: []flume.Key{{Name: "maxBytesToLog", Default: "16"}}}, nil)
	flume.RegisterSink(flume.Spec{Alias: "null", Keys: []flume.Key{{Name: "batchSize", Default: "100"}}}, nil)
	flume.RegisterInterceptor(flume.Spec{Alias: "static", Keys: []flume.Key{
		{Name: "key", Default: "key"}, {Name: "value", Default: "value"}, {Name: "preserveExisting", Default: "true"},
	}}, nil)
}
