package wire

// DefaultMaxFrame is the default maximum frame size (bytes after the length prefix).
const DefaultMaxFrame = 64 << 20

// FrameError reports a frame or header that cannot be decoded. A peer that
// sends one has desynchronised the stream, so the connection should be closed.
type FrameError struct{ Reason string }

func (e *FrameError) Error() string { return "amps frame: " + e.Reason }

func frameErr(reason string) error { return &FrameError{Reason: reason} }
