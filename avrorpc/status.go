package avrorpc

import "strconv"

// Status is the result of append and appendBatch, Flume's Status enum.
type Status int

const (
	// OK means every event of the call was committed to the source's
	// channels.
	OK Status = iota
	// Failed means the source could not commit the events (for example a
	// full channel); the client keeps them and retries.
	Failed
	// Unknown is reserved by the protocol.
	Unknown
)

var statusNames = [...]string{"OK", "FAILED", "UNKNOWN"}

func (s Status) String() string {
	if s >= 0 && int(s) < len(statusNames) {
		return statusNames[s]
	}
	return "Status(" + strconv.Itoa(int(s)) + ")"
}
