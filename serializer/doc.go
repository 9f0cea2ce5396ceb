// Package serializer holds the event serializers shared by the file-like
// sinks (hdfs, and any sink that writes events to a byte stream): Flume's
// "text" (BodyTextEventSerializer), "header_and_text"
// (HeaderAndBodyTextEventSerializer) and "avro_event" (an Avro object
// container file of Flume's Event record, FlumeEventAvroEventSerializer).
//
// A Serializer follows Flume's EventSerializer life cycle: AfterCreate once
// on a new, empty stream (where a container format writes its header), Write
// for each event, Flush at the end of each batch (where a container format
// ends its current block, so that the bytes written so far form a complete,
// readable file), and BeforeClose once before the stream is closed.
//
// Guarantees: after Flush returns nil, everything given to Write has been
// handed to the underlying writer, and the bytes handed to it so far are a
// valid file of the format on their own. A sink may therefore cut a file back
// to the length it had after any successful Flush and still have a valid
// file. Serializers are not safe for concurrent use.
package serializer
