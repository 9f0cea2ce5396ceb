package bookmark

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Special bookmark values understood by AMPS servers.
const (
	// Epoch replays the whole transaction log.
	Epoch = "0"
	// Now delivers only messages published after the subscription.
	Now = "0|1|"
	// MostRecentAlias is resolved by the client from its store and never
	// sent to a server.
	MostRecentAlias = "recent"
)

// ErrNotBookmark is returned by Parse for special values, timestamps, lists
// and malformed text: anything that does not name one message.
var ErrNotBookmark = errors.New("not a message bookmark")

// Bookmark names one message: the hash of its publisher and the publisher's
// sequence number.
type Bookmark struct {
	Publisher uint64
	Seq       uint64
}

// Parse parses "publisherId|sequence|". Publisher 0 is reserved for special
// values (Now is "0|1|") and is rejected.
func Parse(s string) (Bookmark, error) {
	rest, ok := strings.CutSuffix(s, "|")
	if !ok {
		return Bookmark{}, fmt.Errorf("bookmark %q: %w", s, ErrNotBookmark)
	}
	pub, seq, ok := strings.Cut(rest, "|")
	if !ok {
		return Bookmark{}, fmt.Errorf("bookmark %q: %w", s, ErrNotBookmark)
	}
	p, err1 := strconv.ParseUint(pub, 10, 64)
	q, err2 := strconv.ParseUint(seq, 10, 64)
	if err1 != nil || err2 != nil || p == 0 {
		return Bookmark{}, fmt.Errorf("bookmark %q: %w", s, ErrNotBookmark)
	}
	return Bookmark{Publisher: p, Seq: q}, nil
}

// String formats the bookmark as the server sends it.
func (b Bookmark) String() string {
	return strconv.FormatUint(b.Publisher, 10) + "|" + strconv.FormatUint(b.Seq, 10) + "|"
}

// Join formats bookmarks as a comma list, sorted by publisher so that equal
// sets give equal strings; an empty set is Epoch.
func Join(bms []Bookmark) string {
	if len(bms) == 0 {
		return Epoch
	}
	s := append([]Bookmark(nil), bms...)
	sort.Slice(s, func(i, j int) bool { return s[i].Publisher < s[j].Publisher })
	parts := make([]string, len(s))
	for i, b := range s {
		parts[i] = b.String()
	}
	return strings.Join(parts, ",")
}

// Store is a bookmark store. Methods taking a bookmark ignore values that do
// not name one message (Epoch, Now, timestamps, lists): those are never
// logged. The one exception is a range given to Log. Implementations are
// safe for concurrent use.
type Store interface {
	// Log records that the message with this bookmark was received and
	// handed to the application. Logging a bookmark already known is a no-op.
	// Given a range ("[" or "(" first), Log records it as the
	// subscription's bookmark instead (ErrInvalidRange when it is not a
	// valid range), and MostRecent then answers with that range resumed;
	// log the range before subscribing with it.
	Log(subID, bookmark string) error
	// Discard records that the application is done with the message; the
	// resume point may move past it once every earlier message is discarded.
	Discard(subID, bookmark string) error
	// IsDiscarded reports whether a message is a duplicate: already received
	// in this process, or discarded before a restart.
	IsDiscarded(subID, bookmark string) bool
	// MostRecent is the bookmark to resume the subscription from.
	MostRecent(subID string) string
	// Persisted records a persisted acknowledgement from the server; the
	// resume point never moves past what the server has persisted.
	Persisted(subID, bookmark string) error
	// Flush hands buffered records to the operating system (a no-op for
	// stores that keep nothing outside memory).
	Flush() error
	// Prune drops what is no longer needed to answer the questions above.
	Prune() error
	Close() error
}
