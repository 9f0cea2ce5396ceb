package fileroll

import (
	"bufio"
	"fmt"
	"sort"
	"strings"

	"ampsflume/flume"
)

// serializer writes one event to the file's buffer.
type serializer func(w *bufio.Writer, e *flume.Event) error

// Serializer names accepted for sink.serializer, by lower-cased alias or
// Flume builder class name.
var serializerNames = map[string]string{
	"text": "text",
	"org.apache.flume.serialization.bodytexteventserializer$builder": "text",
	"header_and_text": "header_and_text",
	"org.apache.flume.serialization.headerandbodytexteventserializer$builder": "header_and_text",
}

func newSerializer(name string, appendNewline bool) (serializer, error) {
	switch serializerNames[strings.ToLower(strings.TrimSpace(name))] {
	case "text":
		return func(w *bufio.Writer, e *flume.Event) error {
			_, err := w.Write(e.Body)
			if appendNewline {
				// bufio.Writer keeps its first error, so this
				// reports an earlier failure too.
				err = w.WriteByte('\n')
			}
			return err
		}, nil
	case "header_and_text":
		return func(w *bufio.Writer, e *flume.Event) error {
			writeHeaders(w, e.Headers)
			w.WriteByte(' ')
			_, err := w.Write(e.Body)
			if appendNewline {
				err = w.WriteByte('\n')
			}
			return err
		}, nil
	}
	return nil, fmt.Errorf("unknown serializer %q: use text or header_and_text", name)
}

// writeHeaders prints headers the way a Java map prints itself,
// {k1=v1, k2=v2}, with keys sorted so that output is reproducible (Flume's
// order is the hash map's).
func writeHeaders(w *bufio.Writer, h map[string]string) {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	w.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			w.WriteString(", ")
		}
		w.WriteString(k)
		w.WriteByte('=')
		w.WriteString(h[k])
	}
	w.WriteByte('}')
}
