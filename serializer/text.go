package serializer

import (
	"io"

	"ampsflume/flume"
)

var appendNewlineKey = flume.Key{Name: "appendNewline", Type: "bool", Default: "true", Doc: "Write a newline after each event."}

var textBuilder = Builder{
	Name:  "text",
	Class: "org.apache.flume.serialization.BodyTextEventSerializer$Builder",
	Doc:   "The event body as is, followed by a newline unless appendNewline is false; headers are not written. The default.",
	Keys:  []flume.Key{appendNewlineKey},
	Check: func(cfg *flume.Context) error { _, err := cfg.Bool("appendNewline", true); return err },
	New: func(cfg *flume.Context, w io.Writer) (Serializer, error) {
		nl, err := cfg.Bool("appendNewline", true)
		if err != nil {
			return nil, err
		}
		return &lineSerializer{w: w, newline: nl}, nil
	},
}

var headerAndTextBuilder = Builder{
	Name:  "header_and_text",
	Class: "org.apache.flume.serialization.HeaderAndBodyTextEventSerializer$Builder",
	Doc:   "The headers as {k1=v1, k2=v2} (keys sorted), a space, then the body and a newline unless appendNewline is false.",
	Keys:  []flume.Key{appendNewlineKey},
	Check: func(cfg *flume.Context) error { _, err := cfg.Bool("appendNewline", true); return err },
	New: func(cfg *flume.Context, w io.Writer) (Serializer, error) {
		nl, err := cfg.Bool("appendNewline", true)
		if err != nil {
			return nil, err
		}
		return &lineSerializer{w: w, newline: nl, headers: true}, nil
	},
}

// lineSerializer is text and header_and_text: each event becomes one write
// of its (optional) headers, its body and an optional newline. It keeps no
// buffer of its own, so Flush has nothing to do; the sink buffers.
type lineSerializer struct {
	w       io.Writer
	newline bool
	headers bool
	scratch []byte
}

func (s *lineSerializer) AfterCreate() error   { return nil }
func (s *lineSerializer) AfterReopen() error   { return nil }
func (s *lineSerializer) SupportsReopen() bool { return true }
func (s *lineSerializer) Flush() error         { return nil }
func (s *lineSerializer) BeforeClose() error   { return nil }

func (s *lineSerializer) Write(e *flume.Event) error {
	b := s.scratch[:0]
	if s.headers {
		b = AppendHeaders(b, e.Headers)
		b = append(b, ' ')
	}
	b = append(b, e.Body...)
	if s.newline {
		b = append(b, '\n')
	}
	s.scratch = b
	if cap(s.scratch) > 1<<20 {
		// Do not pin one huge event's buffer for the life of the file.
		s.scratch = nil
	}
	_, err := s.w.Write(b)
	return err
}
