package ampserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"ampsflume/amps"
	"ampsflume/amps/bookmark"
	"ampsflume/ampserver/txlog"
)

// journalOrder lists the n values of s's journal, in journal order.
func journalOrder(t *testing.T, s *Server) string {
	t.Helper()
	r := s.jr.log.NewReader(s.jr.log.FirstSeq())
	defer r.Close()
	var out []string
	for {
		rec, err := r.Next(s.jr.log.NextSeq())
		if errors.Is(err, io.EOF) {
			break
		}
		noErr(t, err)
		d := string(rec.Data)
		out = append(out, d[strings.LastIndex(d, ":")+1:len(d)-1])
	}
	return strings.Join(out, ",")
}

func shutdown(t *testing.T, s *Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	noErr(t, s.Shutdown(ctx))
}

// storeSub plays a client's bookmark store on the messages of st up to the
// one whose data ends with last: a message the store calls a duplicate is
// dropped, the others are logged and returned.
func storeSub(t *testing.T, st *amps.MessageStream, store bookmark.Store, subID, last string) []*amps.Message {
	t.Helper()
	var kept []*amps.Message
	for {
		got, _ := collectN(t, st, 1)
		m := got[0]
		if !store.IsDiscarded(subID, m.Bookmark) {
			noErr(t, store.Log(subID, m.Bookmark))
			kept = append(kept, m)
		}
		if strings.HasSuffix(string(m.Data), ":"+last+"}") {
			return kept
		}
	}
}

// TestReplicationResumeUnlistedPublisher fails a bookmark subscription over
// between two journals that interleave two publishers differently, with a
// resume list that names only one of them. Publisher 2 publishes to B while
// A is down; then B is down while publisher 1 publishes to A; then both run
// and replicate, so A holds 1,1,1,2,2,2 and B holds 2,2,2,1,1,1. A
// subscriber on A that has discarded publisher 1's messages resumes on B
// with "<publisher 1>|3|": B must still deliver publisher 2's messages,
// which it journaled before publisher 1's.
func TestReplicationResumeUnlistedPublisher(t *testing.T) {
	dirA, dirB, replA, replB := t.TempDir(), t.TempDir(), freePort(t), freePort(t)
	cfgA := replicaConfig(dirA, "A", replA, "sync", map[string]string{"B": replB})
	cfgB := replicaConfig(dirB, "B", replB, "sync", map[string]string{"A": replA})

	b := startServer(t, cfgB)
	p2 := ampsClient(t, b, "pub2")
	acked := make(chan uint64, 16)
	p2.OnPersisted(func(seq uint64) { acked <- seq })
	for i := 1; i <= 3; i++ {
		sendSeq(t, p2, uint64(i), 200+i)
	}
	waitSeq(t, acked, 3)
	p2.Close()
	shutdown(t, b)

	a := startServer(t, cfgA)
	p1 := ampsClient(t, a, "pub1")
	acked1 := make(chan uint64, 16)
	p1.OnPersisted(func(seq uint64) { acked1 <- seq })
	for i := 1; i <= 3; i++ {
		sendSeq(t, p1, uint64(i), 100+i)
	}
	waitSeq(t, acked1, 3)

	// Never seen: the subscriber on A gets publisher 1's messages before
	// publisher 2's reach A, and discards them all.
	never := bookmark.NewMemoryStore()
	stA := bookmarkSub(t, ampsClient(t, a, "subNever"), "Orders", "0", "", "")
	for _, m := range storeSub(t, stA, never, "s", "103") {
		noErr(t, never.Discard("s", m.Bookmark))
	}

	b = startServer(t, cfgB)
	waitFor(t, "both journals complete", func() bool {
		return a.jr.log.NextSeq()-1 == 6 && b.jr.log.NextSeq()-1 == 6
	})
	require(t, journalOrder(t, a) == "101,102,103,201,202,203" && journalOrder(t, b) == "201,202,203,101,102,103",
		"journals do not diverge: A %s, B %s", journalOrder(t, a), journalOrder(t, b))

	// Seen, not discarded: a subscriber on A gets all six, discards
	// publisher 1's and restarts (its store recovered from its file).
	path := filepath.Join(t.TempDir(), "bookmarks.log")
	seen, err := bookmark.OpenLogged(path, bookmark.LoggedOptions{})
	noErr(t, err)
	stA2 := bookmarkSub(t, ampsClient(t, a, "subSeen"), "Orders", "0", "", "")
	for _, m := range storeSub(t, stA2, seen, "s", "203") {
		if strings.HasPrefix(string(m.Data), `{"order_key":10`) {
			noErr(t, seen.Discard("s", m.Bookmark))
		}
	}
	noErr(t, seen.Close())
	seen, err = bookmark.OpenLogged(path, bookmark.LoggedOptions{})
	noErr(t, err)
	t.Cleanup(func() { seen.Close() })

	// The end of what B delivers: publisher 2's next message, journaled
	// after publisher 1's.
	p2 = ampsClient(t, b, "pub2")
	acked = make(chan uint64, 16)
	p2.OnPersisted(func(seq uint64) { acked <- seq })
	sendSeq(t, p2, 4, 204)
	waitSeq(t, acked, 4)

	// Each resumed subscription reads up to a message publisher 1 sends
	// once it is subscribed (live on B), after the earlier ones'.
	tests := []struct {
		name  string
		store bookmark.Store
		want  string
	}{
		{"never seen", never, "201,202,203,204,104"},
		{"seen, not discarded", seen, "201,202,203,204,104,105"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			list := tc.store.MostRecent("s")
			require(t, !strings.Contains(list, ","), "resume list %q names more than publisher 1", list)
			st := bookmarkSub(t, ampsClient(t, b, "sub"+strings.ReplaceAll(tc.name, " ", "")), "Orders", list, "", "")
			sendSeq(t, p1, uint64(4+i), 104+i)
			got := storeSub(t, st, tc.store, "s", strconv.Itoa(104+i))
			require(t, ns(got) == tc.want, "resumed on B with %q: %s, want %s", list, ns(got), tc.want)
		})
	}
}

// TestReplicationResolveList checks where a bookmark list starts on an
// instance that replicates. The journal holds, in order: p1 1 (Orders),
// other 1 (Log.x), p2 1 (Orders), p1 2 (Orders), p2 2 (Orders).
func TestReplicationResolveList(t *testing.T) {
	s := startServer(t, replicaConfig(t.TempDir(), "A", "127.0.0.1:0", "async", nil))
	p1, p2, other := ampsClient(t, s, "p1"), ampsClient(t, s, "p2"), ampsClient(t, s, "other")
	publishN(t, p1, "Orders", 1, 2)
	publishN(t, other, "Log.x", 1, 2)
	publishN(t, p2, "Orders", 1, 2)
	publishN(t, p1, "Orders", 2, 3)
	publishN(t, p2, "Orders", 2, 3)
	waitFor(t, "five records", func() bool { return s.jr.log.NextSeq() == 6 })
	bm := func(name string, seq int) string { return fmt.Sprintf("%d|%d|", txlog.PublisherID(name), seq) }
	orders := func(topic string) bool { return topic == "Orders" }
	tests := []struct {
		name, list string
		matches    func(string) bool
		seq        uint64
		found      bool
		floors     map[string]uint64 // publisher name -> journal position
	}{
		{"p2 unlisted: from its first message", bm("p1", 1), orders, 3, true, map[string]uint64{"p1": 1}},
		{"other publisher's topic not covered", bm("p1", 2) + "," + bm("p2", 1), orders, 5, true, map[string]uint64{"p1": 4, "p2": 3}},
		{"every topic covered", bm("p1", 2) + "," + bm("p2", 1), nil, 2, true, map[string]uint64{"p1": 4, "p2": 3}},
		{"explicit NOW for the unlisted", bm("p1", 1) + ",0|1|", orders, 4, true, map[string]uint64{"p1": 1}},
		{"explicit EPOCH", bm("p1", 2) + ",0", orders, 1, true, map[string]uint64{"p1": 4}},
		{"unknown publisher: the others from their first", bm("nobody", 9), orders, 1, true, nil},
		{"everything listed, nothing after", bm("p1", 2) + "," + bm("p2", 2), orders, 6, true, map[string]uint64{"p1": 4, "p2": 5}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var st txlog.Start
			var err error
			if tc.matches != nil {
				st, err = s.resolveBookmark(tc.list, tc.matches)
			} else {
				st, err = s.resolveBookmark(tc.list)
			}
			noErr(t, err)
			want := map[uint64]uint64{}
			for name, f := range tc.floors {
				want[txlog.PublisherID(name)] = f
			}
			got := st.Floors
			if got == nil {
				got = map[uint64]uint64{}
			}
			require(t, st.Seq == tc.seq && st.Found == tc.found && fmt.Sprint(got) == fmt.Sprint(want),
				"%q: start %d found %v floors %v, want %d %v %v", tc.list, st.Seq, st.Found, got, tc.seq, tc.found, want)
		})
	}
}
