package ampserver

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"regexp"
	"testing"
	"time"

	"ampsflume/amps/wire"
	"ampsflume/filter"
)

// The hand-written delivery encoders must write exactly what
// wire.AppendFrame writes for deliveryHeader.
func TestDeliveryFrameMatchesAppendFrame(t *testing.T) {
	pieces := []string{"", "Orders", "a\"b", `back\slash`, "tab\there", "ctl\x01", "é", "20261127T095337.123456Z", "12345678901234567890", "x,y"}
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func() string { return pieces[rng.IntN(len(pieces))] }
	// deliveryEnc is given timestamps only, mostly of one length, and is
	// reused from publish to publish as a topic does.
	stamp := func() string {
		if rng.IntN(8) == 0 {
			return timestamp(time.Date(10000+rng.IntN(100000), 1, 1, 0, 0, 0, 0, time.UTC))
		}
		return timestamp(time.Unix(rng.Int64N(1<<34), rng.Int64N(1e9)))
	}
	var enc deliveryEnc
	var d Delivery
	for i := 0; i < 5000; i++ {
		if i == 0 || rng.IntN(2) == 0 {
			topic := "Orders" // mostly the same topic, as on a topic's fan-out
			if rng.IntN(4) == 0 {
				topic = pick()
			}
			d = Delivery{Topic: topic, SowKey: pick(), Timestamp: pick(), CorrelationID: pick(), Bookmark: pick(), Data: []byte(pick())}
		} // else: the next publish differs in its timestamp only
		sub := &subscription{id: pick()}
		if sub.id == "" {
			sub.id = "s"
		}
		idPart := appendIDPart(nil, sub.id)
		h := (&Server{}).deliveryHeader(sub, &d)
		want := wire.AppendFrame([]byte("prefix"), &h, d.Data)
		if got := appendDeliveryFrame([]byte("prefix"), &d, idPart); !bytes.Equal(got, want) {
			t.Fatalf("appendDeliveryFrame(%+v, %q):\n got %q\nwant %q", d, sub.id, got, want)
		}
		d.Timestamp = stamp()
		h = (&Server{}).deliveryHeader(sub, &d)
		want = wire.AppendFrame([]byte("prefix"), &h, d.Data)
		enc.reset(&d, []byte(d.Timestamp))
		got := enc.appendFrame([]byte("prefix"), idPart)
		if !bytes.Equal(got, want) {
			t.Fatalf("deliveryEnc(%+v, %q):\n got %q\nwant %q", d, sub.id, got, want)
		}
		if n := enc.frameLen(idPart); n != len(want)-len("prefix") {
			t.Fatalf("frameLen = %d, want %d", n, len(want)-len("prefix"))
		}
	}
}

// A route's answer is the compiled filters' answer on every document,
// including the ones the equality index hands back to the filter: every
// matching subscription of the topic, in subscription-list order, whatever
// mix of indexed, scanned and unfiltered subscriptions the topic has.
func TestRouteAgreesWithFilter(t *testing.T) {
	exprs := []string{
		"/symbol = 'MSFT'", "/symbol = 'IBM'", "/symbol = ''", "/sym_2 = 'x'", "/n = '10'",
		"/arr = 'x'", "/symbol = 'é'", `/symbol = "MSFT"`, "/symbol == 'MSFT'",
		"/symbol = 'MSFT'", // a second subscription on the same literal
		"/symbol = 'LONGER THAN 8'", "/symbol = '12345678'",
		"/qty > 0", "/symbol <> 'MSFT'", "", // not indexed: scanned, or no filter
	}
	docs := []string{
		`{"symbol":"MSFT"}`, `{"symbol":"IBM","qty":1}`, `{"symbol":""}`, `{"qty":1}`,
		`{"symbol":"MS\u0046T"}`, `{"symbol":"MSFT ","x":1}`, `{"symbol":null}`, `{"symbol":1}`,
		`{"n":10}`, `{"n":"10"}`, `{"n":10.0}`, `{"a":{"b":"x"}}`, `{"a":{"b":["x","y"]}}`,
		`{"arr":["y","x"]}`, `{"arr":[]}`, `{"symbol":"é"}`, `not json`, `[{"symbol":"MSFT"}]`,
		`{"symbol":true}`, `{"symbol":{"x":"MSFT"}}`, `{"symbol":"MSFT","symbol":"IBM"}`,
		`{"sym_2":"x"}`, `{"sym_2":["x"]}`, `{"o":{"symbol":"IBM"},"symbol":"MSFT"}`, `{"o":"}","symbol":"MSFT"}`,
		`{"sym\u0062ol":"MSFT"}`, ` { "symbol" : "MSFT" } `, `{"symbol":"MSFT"`, `{"x":1,}`, `{"x":[1,{"symbol":"MSFT"}],"symbol":"IBM"}`,
		`{"x":1 "symbol":"MSFT"}`, `{}`, ``, `"MSFT"`, `{"symbol":"IBM"} trailing`, `{"x":tru,"symbol":"MSFT"}`,
		`{"symbol":"MSFT","qty":5,"sym_2":"x","n":"10"}`, `{"symbol":"S7"}`, `{"symbol":"S11","qty":2}`,
		`{"symbol":"LONGER THAN 8"}`, `{"symbol":"LONGER THAN 9"}`, `{"symbol":"12345678"}`, `{"symbol":"123456789"}`, `{"symbol":"1234567"}`,
	}
	// With many literals on one field the index hashes them; with a few it
	// compares them one by one.
	var many []string
	for i := 0; i < 2*eqLinear; i++ {
		many = append(many, fmt.Sprintf("/symbol = 'S%d'", i))
	}
	for _, exprs := range [][]string{exprs, append(many, exprs...)} {
		t.Run(fmt.Sprint(len(exprs)), func(t *testing.T) { checkRoute(t, exprs, docs) })
	}
}

func checkRoute(t *testing.T, exprs, docs []string) {
	topics := []string{"Orders", "Other", "^Ord.*"}
	var subs []*subscription
	for i, e := range exprs {
		for j, topic := range topics {
			sub := &subscription{id: fmt.Sprintf("%d/%d", i, j), topic: topic}
			if j == 2 {
				sub.topic, sub.re = "", regexp.MustCompile(topic)
			}
			if e != "" {
				m, err := compileFilter(e)
				if err != nil {
					t.Fatalf("%s: %v", e, err)
				}
				sub.filter, sub.eq = m, eqFilterOf(m)
			}
			subs = append(subs, sub)
		}
	}
	// Subscriptions of several topics and kinds interleaved, as they are in
	// the server's list.
	rand.New(rand.NewPCG(3, 4)).Shuffle(len(subs), func(i, j int) { subs[i], subs[j] = subs[j], subs[i] })
	r := newRoute(&subList{subs: subs}, "Orders")
	if len(r.fields) == 0 || len(r.scan) == 0 {
		t.Fatalf("route has %d indexed fields and %d scanned subscriptions; the test wants both", len(r.fields), len(r.scan))
	}
	for _, doc := range docs {
		var want []string
		for _, sub := range subs {
			if sub.matchesTopic("Orders") && (sub.filter == nil || sub.filter.Match([]byte(doc))) {
				want = append(want, sub.id)
			}
		}
		var got []string
		for _, p := range r.match(nil, []byte(doc)) {
			got = append(got, r.subs[p].id)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("on %s:\n got %v\nwant %v", doc, got, want)
		}
	}
}

// A topic keeps its route while the subscription list is unchanged and
// builds a new one when it changes.
func TestRouteFollowsSubscriptionList(t *testing.T) {
	tp := &topic{name: "Orders"}
	a := &subscription{id: "a", topic: "Orders"}
	l1 := &subList{subs: []*subscription{a}}
	r1 := tp.routeFor(l1)
	if tp.routeFor(l1) != r1 {
		t.Fatal("route rebuilt for the same list")
	}
	l2 := &subList{subs: []*subscription{a, {id: "b", topic: "Orders"}, {id: "c", topic: "Other"}}}
	r2 := tp.routeFor(l2)
	if r2 == r1 || len(r2.subs) != 2 || r2.subs[1].id != "b" {
		t.Fatalf("route after the list changed: %+v", r2.subs)
	}
}

func TestEqFilterOnlyForEqualityWithString(t *testing.T) {
	for _, e := range []string{
		"/qty = 5", "/symbol = 'A' AND /qty > 1", "/symbol <> 'A'", "'A' = /symbol",
		"/symbol = /other", "/symbol LIKE 'A'", "/symbol IN ('A')", "UPPER(/symbol) = 'A'",
		"/a/b = 'x'", "/a[0] = 'x'", `/symbol = 'it\'s'`,
	} {
		f, err := filter.Compile(e)
		if err != nil {
			t.Fatalf("%s: %v", e, err)
		}
		if eq := eqFilterOf(f); eq != nil {
			t.Errorf("%s: got fast form %+v", e, eq)
		}
	}
}

func BenchmarkFanoutFilters(b *testing.B) {
	var subs []*subscription
	for _, sym := range []string{"MSFT", "IBM", "AAPL", "ORCL"} {
		m, _ := compileFilter(fmt.Sprintf("/symbol = '%s'", sym))
		subs = append(subs, &subscription{topic: "Orders", filter: m, eq: eqFilterOf(m)})
	}
	r := newRoute(&subList{subs: subs}, "Orders")
	doc := []byte(`{"order_key":12345,"price":62.15,"qty":100,"side":"buy","trader":"t01","symbol":"ORCL"}`)
	var matched []int32
	b.ReportAllocs()
	for b.Loop() {
		matched = r.match(matched[:0], doc)
	}
}

func TestAllDigits(t *testing.T) {
	for c := 0; c < 256; c++ {
		for pos := 0; pos < 8; pos++ {
			b := []byte("01234567")
			b[pos] = byte(c)
			want := c >= '0' && c <= '9'
			if got := allDigits(binary.LittleEndian.Uint64(b)); got != want {
				t.Fatalf("allDigits(%q) = %v", b, got)
			}
		}
	}
}

// FuzzRouteAgreesWithFilter checks the equality index, and the scan of a
// message's top-level fields under it, against the compiled filters on
// arbitrary documents.
func FuzzRouteAgreesWithFilter(f *testing.F) {
	for _, doc := range []string{
		`{"seq":0000000123,"ts":1234567890123456789,"symbol":"MSFT","price":62.15}`,
		`{"symbol":"IBM","qty":1}`, `{"symbol":"MS\u0046T"}`, `{"a":{"symbol":"x"},"symbol":"AAPL"}`,
		`{"n":12345678901234567890,"symbol":"GOOG"}`, `{"n":123456789e10,"symbol":"GOOG"}`, `{}`, `[1]`,
	} {
		f.Add([]byte(doc))
	}
	var subs []*subscription
	for i, e := range []string{"/symbol = 'MSFT'", "/symbol = 'IBM'", "/symbol = 'GOOG'", "/n = '1'", "/symbol = 'LONGER THAN 8'", "/qty > 0"} {
		m, err := compileFilter(e)
		if err != nil {
			f.Fatal(err)
		}
		subs = append(subs, &subscription{id: fmt.Sprint(i), topic: "Orders", filter: m, eq: eqFilterOf(m)})
	}
	r := newRoute(&subList{subs: subs}, "Orders")
	f.Fuzz(func(t *testing.T, doc []byte) {
		var want []string
		for _, sub := range subs {
			if sub.filter.Match(doc) {
				want = append(want, sub.id)
			}
		}
		var got []string
		for _, p := range r.match(nil, doc) {
			got = append(got, r.subs[p].id)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("on %q: route %v, filters %v", doc, got, want)
		}
	})
}
