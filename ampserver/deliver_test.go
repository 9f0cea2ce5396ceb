package ampserver

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"ampsflume/amps/wire"
	"ampsflume/filter"
)

// The hand-written delivery encoders must write exactly what
// wire.AppendFrame writes for deliveryHeader.
func TestDeliveryFrameMatchesAppendFrame(t *testing.T) {
	pieces := []string{"", "Orders", "a\"b", `back\slash`, "tab\there", "ctl\x01", "é", "20261127T095337.123456Z", "12345678901234567890", "x,y"}
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func() string { return pieces[rng.IntN(len(pieces))] }
	var enc deliveryEnc
	for i := 0; i < 2000; i++ {
		topic := "Orders" // mostly the same topic, as on a topic's fan-out
		if rng.IntN(4) == 0 {
			topic = pick()
		}
		d := Delivery{Topic: topic, SowKey: pick(), Timestamp: pick(), CorrelationID: pick(), Bookmark: pick(), Data: []byte(pick())}
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
		enc.reset(&d)
		got := enc.appendFrame([]byte("prefix"), idPart)
		if !bytes.Equal(got, want) {
			t.Fatalf("deliveryEnc(%+v, %q):\n got %q\nwant %q", d, sub.id, got, want)
		}
		if n := enc.frameLen(idPart); n != len(want)-len("prefix") {
			t.Fatalf("frameLen = %d, want %d", n, len(want)-len("prefix"))
		}
	}
}

// An equality filter's fast form gives the compiled filter's answer on
// every document, including the ones it hands back to the filter.
func TestEqFilterAgreesWithFilter(t *testing.T) {
	exprs := []string{
		"/symbol = 'MSFT'", "/symbol = 'IBM'", "/symbol = ''", "/sym_2 = 'x'", "/n = '10'",
		"/arr = 'x'", "/symbol = 'é'", `/symbol = "MSFT"`, "/symbol == 'MSFT'",
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
	}
	var subs []*subscription
	for _, e := range exprs {
		m, err := compileFilter(e)
		if err != nil {
			t.Fatalf("%s: %v", e, err)
		}
		sub := &subscription{filter: m, eq: eqFilterOf(m)}
		if sub.eq == nil {
			t.Fatalf("%s: no fast form", e)
		}
		subs = append(subs, sub)
	}
	for _, doc := range docs {
		// One cache per document, shared by all subscriptions, as in publish.
		var fc fieldCache
		for i, sub := range subs {
			want := sub.filter.Match([]byte(doc))
			if got := fc.match(sub, []byte(doc)); got != want {
				t.Errorf("%s on %s: fast %v, filter %v", exprs[i], doc, got, want)
			}
		}
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
		subs = append(subs, &subscription{filter: m, eq: eqFilterOf(m)})
	}
	doc := []byte(`{"order_key":12345,"price":62.15,"qty":100,"side":"buy","trader":"t01","symbol":"ORCL"}`)
	b.ReportAllocs()
	for b.Loop() {
		var fc fieldCache
		for _, sub := range subs {
			fc.match(sub, doc)
		}
	}
}
