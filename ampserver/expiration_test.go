package ampserver

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"ampsflume/amps/wire"
)

func TestParseExpiration(t *testing.T) {
	tests := []struct {
		in      string
		ttl     time.Duration
		enabled bool
		err     string
	}{
		{in: "", ttl: 0, enabled: false},
		{in: "disabled", ttl: 0, enabled: false},
		{in: "Disabled", ttl: 0, enabled: false},
		{in: "enabled", ttl: 0, enabled: true},
		{in: "ENABLED", ttl: 0, enabled: true},
		{in: "30s", ttl: 30 * time.Second, enabled: true},
		{in: " 5m ", ttl: 5 * time.Minute, enabled: true},
		{in: "1h", ttl: time.Hour, enabled: true},
		{in: "1d", ttl: 24 * time.Hour, enabled: true},
		{in: "2w", ttl: 14 * 24 * time.Hour, enabled: true},
		{in: "1.5s", ttl: 1500 * time.Millisecond, enabled: true},
		{in: "250ms", ttl: 250 * time.Millisecond, enabled: true},
		{in: "45", ttl: 45 * time.Second, enabled: true}, // bare seconds, as the e header
		{in: "0", ttl: 0, enabled: false},
		{in: "0s", ttl: 0, enabled: false},
		{in: "soon", err: "want disabled, enabled"},
		{in: "30x", err: "want disabled, enabled"},
		{in: "-5s", err: "want disabled, enabled"},
		{in: "s", err: "want disabled, enabled"},
		{in: "1..2s", err: "want disabled, enabled"},
		{in: "0.1ns", err: "out of range"},
		{in: "999999999999w", err: "out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			ttl, enabled, err := parseExpiration(tt.in)
			if tt.err != "" {
				require(t, err != nil && strings.Contains(err.Error(), tt.err), "parseExpiration(%q) error %v, want %q", tt.in, err, tt.err)
				return
			}
			noErr(t, err)
			require(t, ttl == tt.ttl && enabled == tt.enabled, "parseExpiration(%q) = %v, %v; want %v, %v", tt.in, ttl, enabled, tt.ttl, tt.enabled)
		})
	}
}

func TestExpirationConfig(t *testing.T) {
	cfg, err := ParseConfig("c.xml", []byte(`<AMPSConfig><Name>x</Name><SOW>
<Topic><Name>A</Name><MessageType>json</MessageType><Key>/id</Key><Expiration>30s</Expiration></Topic>
<Topic><Name>B</Name><MessageType>json</MessageType><Key>/id</Key><Expiration>enabled</Expiration></Topic>
<Topic><Name>C</Name><MessageType>json</MessageType><Key>/id</Key><Expiration>disabled</Expiration></Topic>
<Topic><Name>D</Name><MessageType>json</MessageType><Key>/id</Key></Topic>
</SOW></AMPSConfig>`))
	noErr(t, err)
	require(t, len(cfg.Warnings) == 0, "warnings %v", cfg.Warnings)
	got := make([]string, 0, len(cfg.SOW))
	for _, sc := range cfg.SOW {
		got = append(got, fmt.Sprintf("%s:%v:%v:%v", sc.Name, sc.Expiration, sc.ExpirationEnabled, sc.expiresOn()))
	}
	want := []string{"A:30s:true:true", "B:0s:true:true", "C:0s:false:false", "D:0s:false:false"}
	require(t, slices.Equal(got, want), "got %v, want %v", got, want)
	// Built in code, a lifetime alone turns expiration on.
	require(t, (&SOWTopicConfig{Expiration: time.Second}).expiresOn(), "Expiration without ExpirationEnabled is off")

	_, err = ParseConfig("c.xml", []byte("<AMPSConfig><Name>x</Name><SOW>\n<Topic><Name>A</Name>\n<Expiration>often</Expiration></Topic></SOW></AMPSConfig>"))
	var ce *ConfigError
	require(t, errors.As(err, &ce) && ce.Line == 3 && ce.Element == "Expiration" && strings.Contains(err.Error(), `Expiration "often"`),
		"got %v", err)
}

// TestExpiryHeap checks the heap against a map model under random sets,
// updates and removals: the earliest entry is always the model's minimum,
// and the heap holds exactly one entry per expiring key.
func TestExpiryHeap(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	x := expiry{byKey: map[string]*expEntry{}}
	model := map[string]int64{}
	for i := range 5000 {
		key := fmt.Sprint(r.IntN(200))
		at := int64(0)
		if r.IntN(4) != 0 {
			at = 1 + r.Int64N(1000)
		}
		if at == 0 {
			delete(model, key)
		} else {
			model[key] = at
		}
		x.set(key, at)
		if i%7 == 0 && len(model) > 0 { // pop the earliest, as the sweep does
			at, key := x.next()
			min := int64(-1)
			for _, v := range model {
				if min < 0 || v < min {
					min = v
				}
			}
			require(t, at == min && model[key] == at, "step %d: next %d %q, model minimum %d", i, at, key, min)
			x.set(key, 0)
			delete(model, key)
		}
		require(t, len(x.heap) == len(model) && len(x.byKey) == len(model), "step %d: heap %d, index %d, model %d", i, len(x.heap), len(x.byKey), len(model))
		if i%16 != 0 {
			continue
		}
		for j, e := range x.heap {
			require(t, e.idx == j && model[e.key] == e.at, "step %d: entry %d is %+v, model %d", i, j, e, model[e.key])
			if j > 0 {
				require(t, x.heap[(j-1)/2].at <= e.at, "step %d: heap order broken at %d", i, j)
			}
		}
	}
}

// expClock is the start of every expiration test's clock.
var expClock = time.Unix(1_700_000_000, 0)

// expirationConfig is ordersConfig with Orders expiring records after ttl
// ("enabled": only on request); Other keeps expiration disabled.
func expirationConfig(t *testing.T, dir, ttl string) *Config {
	cfg := ordersConfig(dir)
	d, on, err := parseExpiration(ttl)
	noErr(t, err)
	cfg.SOW[0].Expiration, cfg.SOW[0].ExpirationEnabled = d, on
	return cfg
}

// publishExp publishes with an `e` header ("" for none) and waits for the
// processed ack.
func publishExp(t *testing.T, c *rawClient, topic, data, e string) {
	t.Helper()
	c.send(wire.Header{Command: "publish", CommandID: c.nextCID(), Topic: topic, Expiration: e, AckType: "processed"}, data)
	c.expectAck("processed", "success")
}

// sowState is a query's records as "data e=<expiration>" lines, sorted, and
// its topic_matches.
func sowState(t *testing.T, c *rawClient, topic string) (string, int) {
	t.Helper()
	recs, stats := c.query(wire.Header{Topic: topic})
	lines := make([]string, 0, len(recs))
	for _, r := range recs {
		lines = append(lines, r.data+" e="+r.h.Expiration)
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n"), stats.TopicMatches
}

func TestSOWExpiration(t *testing.T) {
	clk := &fakeClock{now: expClock}
	var mu sync.Mutex
	var changes []string
	observe := func(rc RecordChange) {
		mu.Lock()
		defer mu.Unlock()
		if rc.New == nil {
			changes = append(changes, fmt.Sprintf("%s %s expired=%v", rc.Topic, rc.Old, rc.Expired))
		}
	}
	s := startServer(t, expirationConfig(t, "", "30s"), WithClock(clk), WithSOWObserver(observe))
	c := dial(t, s.TCPAddr())
	c.logon("exp")

	publishExp(t, c, "Orders", `{"order_key":1}`, "")    // topic default: 30 s
	publishExp(t, c, "Orders", `{"order_key":2}`, "5")   // overrides it
	publishExp(t, c, "Orders", `{"order_key":3}`, "0")   // never
	publishExp(t, c, "Orders", `{"order_key":4}`, "100") // longer than the default
	publishExp(t, c, "Orders", `{"order_key":5}`, "x")   // malformed: the default
	publishExp(t, c, "Other", `{"id":1}`, "1")           // no expiration on Other: ignored

	steps := []struct {
		advance time.Duration
		orders  string
		matches int
	}{
		{0, "{\"order_key\":1} e=30\n{\"order_key\":2} e=5\n{\"order_key\":3} e=\n{\"order_key\":4} e=100\n{\"order_key\":5} e=30", 5},
		{2500 * time.Millisecond, "{\"order_key\":1} e=28\n{\"order_key\":2} e=3\n{\"order_key\":3} e=\n{\"order_key\":4} e=98\n{\"order_key\":5} e=28", 5}, // rounded up
		{2500 * time.Millisecond, "{\"order_key\":1} e=25\n{\"order_key\":3} e=\n{\"order_key\":4} e=95\n{\"order_key\":5} e=25", 4},
		{25 * time.Second, "{\"order_key\":3} e=\n{\"order_key\":4} e=70", 2},
		{70 * time.Second, "{\"order_key\":3} e=", 1},
		{time.Hour, "{\"order_key\":3} e=", 1},
	}
	for i, st := range steps {
		clk.Advance(st.advance)
		got, matches := sowState(t, c, "Orders")
		require(t, got == st.orders && matches == st.matches, "step %d: Orders\n%s\n(topic_matches %d), want\n%s\n(%d)", i, got, matches, st.orders, st.matches)
		other, _ := sowState(t, c, "Other")
		require(t, other == `{"id":1} e=`, "step %d: Other %q", i, other)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{
		`Orders {"order_key":2} expired=true`,
		`Orders {"order_key":1} expired=true`,
		`Orders {"order_key":5} expired=true`,
		`Orders {"order_key":4} expired=true`,
	}
	// Records due in the same sweep come out in heap order: 1 and 5 share
	// their expiry time.
	if len(changes) == 4 && changes[1] == want[2] {
		changes[1], changes[2] = changes[2], changes[1]
	}
	require(t, slices.Equal(changes, want), "observed\n%s", strings.Join(changes, "\n"))
	require(t, clk.pending() == 0, "%d timers pending with nothing left to expire", clk.pending())
}

// TestExpirationEnabledAndUpdates: with `enabled` only publishes with `e`
// expire, and each publish sets the record's lifetime again.
func TestExpirationEnabledAndUpdates(t *testing.T) {
	clk := &fakeClock{now: expClock}
	s := startServer(t, expirationConfig(t, "", "enabled"), WithClock(clk))
	c := dial(t, s.TCPAddr())
	c.logon("exp")
	publishExp(t, c, "Orders", `{"order_key":1,"v":1}`, "")
	publishExp(t, c, "Orders", `{"order_key":2,"v":1}`, "10")
	clk.Advance(6 * time.Second)
	publishExp(t, c, "Orders", `{"order_key":2,"v":2}`, "10") // now due at 16 s
	publishExp(t, c, "Orders", `{"order_key":1,"v":2}`, "3")  // now due at 9 s
	got, _ := sowState(t, c, "Orders")
	require(t, got == "{\"order_key\":1,\"v\":2} e=3\n{\"order_key\":2,\"v\":2} e=10", "at 6 s:\n%s", got)
	clk.Advance(5 * time.Second)
	got, _ = sowState(t, c, "Orders")
	require(t, got == "{\"order_key\":2,\"v\":2} e=5", "at 11 s:\n%s", got)
	publishExp(t, c, "Orders", `{"order_key":2,"v":3}`, "") // no e: no expiration on an enabled topic
	clk.Advance(time.Hour)
	got, _ = sowState(t, c, "Orders")
	require(t, got == "{\"order_key\":2,\"v\":3} e=", "an hour later:\n%s", got)
}

func TestExpirationOutOfFocus(t *testing.T) {
	clk := &fakeClock{now: expClock}
	s := startServer(t, expirationConfig(t, "", "10s"), WithClock(clk))
	pub := dial(t, s.TCPAddr())
	pub.logon("pub")
	oof := dial(t, s.TCPAddr())
	oof.logon("oof")
	plain := dial(t, s.TCPAddr())
	plain.logon("plain")

	publishExp(t, pub, "Orders", `{"order_key":1,"qty":20}`, "")
	recs := openSub(t, oof, wire.Header{Command: "sow_and_subscribe", Topic: "Orders", Filter: "/qty > 10", Options: "oof"})
	require(t, len(recs) == 1 && recs[0].h.Expiration == "10", "query part %+v", recs)
	openSub(t, plain, wire.Header{Command: "subscribe", Topic: "Orders"})
	publishExp(t, pub, "Orders", `{"order_key":2,"qty":30}`, "20")
	publishExp(t, pub, "Orders", `{"order_key":3,"qty":1}`, "5") // outside the filter: never received

	clk.Advance(10 * time.Second) // 1 and 3 expire
	got := syncClient(t, oof)
	want := strings.Join([]string{
		`p {"order_key":2,"qty":30}`,
		`oof(expired) {"order_key":1,"qty":20}`,
	}, "\n")
	require(t, bodies(got) == want, "got\n%s\nwant\n%s", bodies(got), want)
	require(t, got[1].h.SowKey == recs[0].h.SowKey && got[1].h.Topic == "Orders" && got[1].h.SubIDs != "", "oof header %+v", got[1].h)

	clk.Advance(10 * time.Second) // 2 expires
	got = syncClient(t, oof)
	require(t, bodies(got) == `oof(expired) {"order_key":2,"qty":30}`, "got\n%s", bodies(got))

	// Without the oof option a subscriber sees only the publishes.
	got = syncClient(t, plain)
	require(t, bodies(got) == "p {\"order_key\":2,\"qty\":30}\np {\"order_key\":3,\"qty\":1}", "plain subscriber got\n%s", bodies(got))
}

// TestExpiredBeforeTheTimer: between a record's expiry and the timer's
// sweep, queries leave it out and a publish to its key replaces an expired
// record (oof first, then an insert).
func TestExpiredBeforeTheTimer(t *testing.T) {
	clk := &fakeClock{now: expClock}
	s := startServer(t, expirationConfig(t, "", "10s"), WithClock(clk))
	pub := dial(t, s.TCPAddr())
	pub.logon("pub")
	sub := dial(t, s.TCPAddr())
	sub.logon("sub")
	publishExp(t, pub, "Orders", `{"order_key":1,"qty":20}`, "")
	publishExp(t, pub, "Orders", `{"order_key":2,"qty":20}`, "60")
	openSub(t, sub, wire.Header{Command: "sow_and_delta_subscribe", Topic: "Orders", Options: "oof"})

	// Time passes without the timer running.
	clk.mu.Lock()
	clk.now = clk.now.Add(15 * time.Second)
	clk.mu.Unlock()
	got, matches := sowState(t, pub, "Orders")
	require(t, got == `{"order_key":2,"qty":20} e=45` && matches == 1, "query %q, topic_matches %d", got, matches)

	publishExp(t, pub, "Orders", `{"order_key":1,"qty":5}`, "")
	msgs := syncClient(t, sub)
	// A delta subscriber gets the whole record: there is no previous
	// version to diff against.
	want := "oof(expired) {\"order_key\":1,\"qty\":20}\np {\"order_key\":1,\"qty\":5}"
	require(t, bodies(msgs) == want, "got\n%s\nwant\n%s", bodies(msgs), want)
	got, _ = sowState(t, pub, "Orders")
	require(t, got == "{\"order_key\":1,\"qty\":5} e=10\n{\"order_key\":2,\"qty\":20} e=45", "after the publish:\n%s", got)
}

// TestExpirationOneTimer: however many records expire, the server has one
// timer pending, armed for the earliest.
func TestExpirationOneTimer(t *testing.T) {
	clk := &fakeClock{now: expClock}
	s := startServer(t, expirationConfig(t, "", "enabled"), WithClock(clk))
	c := dial(t, s.TCPAddr())
	c.logon("exp")
	base := clk.pending() // heartbeats and the like, if any
	r := rand.New(rand.NewPCG(3, 4))
	const n = 600 // more than one sweep batch expires at once below
	secs := make([]int, n)
	for i := range n {
		secs[i] = 1 + r.IntN(50)
		c.send(wire.Header{Command: "publish", Topic: "Orders", Expiration: fmt.Sprint(secs[i])}, fmt.Sprintf(`{"order_key":%d}`, i))
	}
	syncClient(t, c)
	require(t, clk.pending() == base+1, "%d timers pending for %d records", clk.pending()-base, n)
	s.exp.mu.Lock()
	armed := s.exp.armed.Load()
	s.exp.mu.Unlock()
	require(t, armed == expClock.Add(time.Duration(slices.Min(secs))*time.Second).UnixNano(), "timer armed for %v", time.Unix(0, armed))

	slices.Sort(secs)
	mid := secs[n/2]
	clk.Advance(time.Duration(mid) * time.Second)
	left := 0
	for _, v := range secs {
		if v > mid {
			left++
		}
	}
	_, matches := sowState(t, c, "Orders")
	require(t, matches == left, "after %d s: %d records, want %d", mid, matches, left)
	clk.Advance(time.Minute)
	_, matches = sowState(t, c, "Orders")
	require(t, matches == 0 && clk.pending() == base, "%d records and %d timers left", matches, clk.pending()-base)
}

// TestExpirationPersisted: a persistent SOW keeps each record's expiry
// across restarts; records that expired while the server was down are gone
// when it starts.
func TestExpirationPersisted(t *testing.T) {
	dir := t.TempDir()
	start := func(at time.Duration, ttl string) (*Server, *rawClient, *fakeClock) {
		clk := &fakeClock{now: expClock.Add(at)}
		s, err := New(expirationConfig(t, dir, ttl), WithLogger(quietLogger()), WithClock(clk))
		noErr(t, err)
		noErr(t, s.Start(ctxT(t)))
		c := dial(t, s.TCPAddr())
		c.logon("exp")
		return s, c, clk
	}
	stop := func(s *Server) { noErr(t, s.Shutdown(ctxT(t))) }

	s, c, _ := start(0, "30s")
	publishExp(t, c, "Orders", `{"order_key":1}`, "10")
	publishExp(t, c, "Orders", `{"order_key":2}`, "100")
	publishExp(t, c, "Orders", `{"order_key":3}`, "0")
	publishExp(t, c, "Orders", `{"order_key":4}`, "")
	stop(s)

	s, c, clk := start(20*time.Second, "30s")
	got, matches := sowState(t, c, "Orders")
	require(t, got == "{\"order_key\":2} e=80\n{\"order_key\":3} e=\n{\"order_key\":4} e=10" && matches == 3, "after a restart at 20 s:\n%s", got)
	require(t, len(s.topics["Orders"].sow.records) == 3, "the record that expired while down is still stored")
	clk.Advance(10 * time.Second)
	got, _ = sowState(t, c, "Orders")
	require(t, got == "{\"order_key\":2} e=70\n{\"order_key\":3} e=", "at 30 s:\n%s", got)
	stop(s)

	// Restarted with expiration disabled, records are kept without one.
	s, c, clk = start(50*time.Second, "disabled")
	got, _ = sowState(t, c, "Orders")
	require(t, got == "{\"order_key\":2} e=\n{\"order_key\":3} e=", "expiration disabled:\n%s", got)
	clk.Advance(time.Hour)
	got, _ = sowState(t, c, "Orders")
	require(t, got == "{\"order_key\":2} e=\n{\"order_key\":3} e=", "expiration disabled, an hour later:\n%s", got)
	stop(s)

	// Enabled again, records kept while it was off do not expire: their
	// expiry times were dropped.
	s, c, _ = start(200*time.Second, "30s")
	got, _ = sowState(t, c, "Orders")
	require(t, got == "{\"order_key\":2} e=\n{\"order_key\":3} e=", "re-enabled after 2's old expiry:\n%s", got)
	stop(s)
}

// TestExpirationJournalRebuild: records the SOW is rebuilt with from the
// transaction log expire after the default lifetime counted from their
// publish time.
func TestExpirationJournalRebuild(t *testing.T) {
	dir := t.TempDir()
	cfg := journalConfig(dir)
	cfg.SOW[0].FileName, cfg.SOW[0].Durability = "", "transient" // rebuilt from the journal alone
	cfg.SOW[0].Expiration = 30 * time.Second
	clk := &fakeClock{now: expClock}
	s, err := New(cfg, WithLogger(quietLogger()), WithClock(clk))
	noErr(t, err)
	noErr(t, s.Start(ctxT(t)))
	c := dial(t, s.TCPAddr())
	c.logon("exp")
	publishExp(t, c, "Orders", `{"order_key":1}`, "")
	clk.Advance(10 * time.Second)
	publishExp(t, c, "Orders", `{"order_key":2}`, "")
	noErr(t, s.Shutdown(ctxT(t)))

	clk = &fakeClock{now: expClock.Add(25 * time.Second)}
	s = startServer(t, cfg, WithClock(clk))
	c = dial(t, s.TCPAddr())
	c.logon("exp")
	got, _ := sowState(t, c, "Orders")
	require(t, got == "{\"order_key\":1} e=5\n{\"order_key\":2} e=15", "rebuilt:\n%s", got)
	clk.Advance(5 * time.Second)
	got, _ = sowState(t, c, "Orders")
	require(t, got == "{\"order_key\":2} e=10", "at 30 s:\n%s", got)
}

// TestExpirationViews: a view over an expiring topic sees an expiry as a
// delete.
func TestExpirationViews(t *testing.T) {
	clk := &fakeClock{now: expClock}
	cfg := expirationConfig(t, "", "10s")
	cfg.Views = []ViewConfig{{Name: "BySymbol", MessageType: "json", UnderlyingTopic: "Orders",
		Projection: []string{"/symbol", "COUNT(/order_key) AS /n"}, Grouping: []string{"/symbol"}}}
	s := startServer(t, cfg, WithClock(clk))
	c := dial(t, s.TCPAddr())
	c.logon("exp")
	sub := dial(t, s.TCPAddr())
	sub.logon("sub")
	publishExp(t, c, "Orders", `{"order_key":1,"symbol":"A"}`, "")
	publishExp(t, c, "Orders", `{"order_key":2,"symbol":"A"}`, "20")
	publishExp(t, c, "Orders", `{"order_key":3,"symbol":"B"}`, "")
	openSub(t, sub, wire.Header{Command: "sow_and_subscribe", Topic: "BySymbol", Options: "oof"})
	got, _ := sowState(t, c, "BySymbol")
	require(t, got == "{\"symbol\":\"A\",\"n\":2} e=\n{\"symbol\":\"B\",\"n\":1} e=", "view:\n%s", got)

	clk.Advance(10 * time.Second)
	got, _ = sowState(t, c, "BySymbol")
	require(t, got == "{\"symbol\":\"A\",\"n\":1} e=", "view after 10 s:\n%s", got)
	msgs := syncClient(t, sub)
	want := "p {\"symbol\":\"A\",\"n\":1}\noof(deleted) {\"symbol\":\"B\",\"n\":1}"
	if len(msgs) == 2 && msgs[0].h.Command == "oof" { // 1 and 3 expire in the same sweep, in heap order
		msgs[0], msgs[1] = msgs[1], msgs[0]
	}
	require(t, bodies(msgs) == want, "view subscriber got\n%s\nwant\n%s", bodies(msgs), want)

	clk.Advance(10 * time.Second)
	got, matches := sowState(t, c, "BySymbol")
	require(t, got == "" && matches == 0, "view after 20 s:\n%s", got)
}

func FuzzParseExpiration(f *testing.F) {
	for _, s := range []string{"30s", "enabled", "disabled", "0", "1.5d", "2w", "45", "-1s", "1e9h", "0.0000000001s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		ttl, enabled, err := parseExpiration(v)
		if err != nil {
			if ttl != 0 || enabled {
				t.Fatalf("%q: error %v with %v, %v", v, err, ttl, enabled)
			}
			return
		}
		if ttl < 0 || (ttl > 0 && !enabled) {
			t.Fatalf("%q: lifetime %v, enabled %v", v, ttl, enabled)
		}
	})
}

// FuzzSOWReplay: any file content loads without a panic, and the expiry
// index covers only records the store holds.
func FuzzSOWReplay(f *testing.F) {
	var seed []byte
	seed = appendRecordEntry(seed, opPut, "1", "20240101T000000.000000Z", 0, []byte(`{"a":1}`))
	seed = appendRecordEntry(seed, opPut, "2", "20240101T000000.000000Z", 1_700_000_000e9, []byte(`{"a":2}`))
	seed = appendRecordEntry(seed, opDel, "1", "", 0, nil)
	seed = appendRecordEntry(seed, opPut, "2", "20240101T000000.000000Z", 0, []byte(`{"a":3}`))
	f.Add(seed)
	f.Add(seed[:len(seed)-3])
	f.Fuzz(func(t *testing.T, b []byte) {
		s := newMemStore()
		_ = s.replay(bufio.NewReader(bytes.NewReader(b)))
		if len(s.exp.heap) != len(s.exp.byKey) {
			t.Fatalf("heap %d entries, index %d", len(s.exp.heap), len(s.exp.byKey))
		}
		for key, e := range s.exp.byKey {
			if s.records[key] == nil || e.at == 0 || s.exp.heap[e.idx] != e {
				t.Fatalf("expiry entry %+v without its record", e)
			}
		}
	})
}
