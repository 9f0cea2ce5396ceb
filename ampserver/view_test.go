package ampserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"ampsflume/amps"
)

// viewsServer starts a server from examples/views/amps-config.xml on an
// ephemeral port, with its SOW files in dir.
func viewsServer(t *testing.T, dir string, opts ...Option) *Server {
	t.Helper()
	cfg, err := LoadConfig(filepath.Join("..", "examples", "views", "amps-config.xml"))
	noErr(t, err)
	for i := range cfg.Transports {
		cfg.Transports[i].InetAddr = "127.0.0.1:0"
	}
	for i := range cfg.SOW {
		cfg.SOW[i].FileName = filepath.Join(dir, "%n-json.sow")
	}
	return startServer(t, cfg, opts...)
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// collector keeps what a subscription's handler received. The handler runs
// on the client's reader, so after a Flush of that client everything the
// server queued before the flush has been collected.
type collector struct {
	mu   sync.Mutex
	msgs []*amps.Message
}

func (k *collector) handle(m *amps.Message) {
	k.mu.Lock()
	k.msgs = append(k.msgs, m)
	k.mu.Unlock()
}

func (k *collector) all() []*amps.Message {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]*amps.Message(nil), k.msgs...)
}

// sowQuery returns the records of a sow query: SowKey -> data.
func sowQuery(t *testing.T, c *amps.Client, topic, filter string) map[string]string {
	t.Helper()
	st, err := c.Execute(testCtx(t), amps.Command{Name: amps.CmdSow, Topic: topic, Filter: filter, BatchSize: 7})
	noErr(t, err)
	out := map[string]string{}
	for m := range st.All() {
		if m.Command == amps.MsgSow {
			out[m.SowKey] = string(m.Data)
		}
	}
	noErr(t, st.Err())
	return out
}

// order is the test's model of an Orders record after preprocessing.
type order struct {
	symbol     string
	price, qty float64
}

type symbolStats struct {
	avgPrice, avgTotal float64
	orders             int
}

// fromScratch computes the OrdersBySymbol view from the model.
func fromScratch(orders map[int]order) map[string]symbolStats {
	sums := map[string]*[3]float64{}
	for _, o := range orders {
		s := sums[o.symbol]
		if s == nil {
			s = &[3]float64{}
			sums[o.symbol] = s
		}
		s[0] += o.price
		s[1] += o.price * o.qty
		s[2]++
	}
	out := map[string]symbolStats{}
	for sym, s := range sums {
		out[sym] = symbolStats{avgPrice: s[0] / s[2], avgTotal: s[1] / s[2], orders: int(s[2])}
	}
	return out
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

// checkView compares the records of the view (data strings) with the model.
func checkView(t *testing.T, step string, records []string, want map[string]symbolStats) {
	t.Helper()
	got := map[string]symbolStats{}
	for _, r := range records {
		var v struct {
			Symbol   string  `json:"symbol"`
			AvgPrice float64 `json:"avg_price"`
			AvgTotal float64 `json:"avg_total"`
			Orders   int     `json:"orders"`
		}
		noErr(t, json.Unmarshal([]byte(r), &v))
		require(t, strings.HasPrefix(r, `{"symbol":`), "%s: fields out of projection order: %s", step, r)
		_, dup := got[v.Symbol]
		require(t, !dup, "%s: two records for %s", step, v.Symbol)
		got[v.Symbol] = symbolStats{v.AvgPrice, v.AvgTotal, v.Orders}
	}
	require(t, len(got) == len(want), "%s: view has %v, want %v", step, got, want)
	for sym, w := range want {
		g, ok := got[sym]
		require(t, ok && g.orders == w.orders && near(g.avgPrice, w.avgPrice) && near(g.avgTotal, w.avgTotal),
			"%s: %s = %+v, want %+v", step, sym, g, w)
	}
}

func values(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// TestViewMatchesFromScratch publishes the article's orders, then updates
// that move orders between symbols (through preprocessing: " ibm" is IBM),
// replacements and deletes, while a sow_and_subscribe to the view and a
// filtered oof subscription are open. After every step the view queried
// over the wire equals an aggregation computed from scratch, and at the end
// the state each subscriber assembled from its stream equals the view.
func TestViewMatchesFromScratch(t *testing.T) {
	s := viewsServer(t, t.TempDir())
	ctx := testCtx(t)
	sub := ampsClient(t, s, "view-sub")
	var all, ibm collector
	_, err := sub.ExecuteHandler(ctx, amps.Command{Name: amps.CmdSowAndSubscribe, Topic: "OrdersBySymbol", BatchSize: 10}, all.handle)
	noErr(t, err)
	_, err = sub.ExecuteHandler(ctx, amps.Command{Name: amps.CmdSowAndSubscribe, Topic: "OrdersBySymbol", Filter: "/symbol = 'IBM'", Options: "oof"}, ibm.handle)
	noErr(t, err)

	pub := ampsClient(t, s, "view-pub")
	model := map[int]order{}
	step := func(name string) {
		t.Helper()
		noErr(t, pub.Flush(ctx))
		checkView(t, name, values(sowQuery(t, pub, "OrdersBySymbol", "")), fromScratch(model))
	}
	for i, line := range exampleLines(t, "messages.json") {
		var o struct {
			Key    int     `json:"order_key"`
			Symbol string  `json:"symbol"`
			Price  float64 `json:"price"`
			Qty    float64 `json:"qty"`
		}
		noErr(t, json.Unmarshal([]byte(line), &o))
		noErr(t, pub.Publish("Orders", []byte(line)))
		model[o.Key] = order{o.Symbol, o.Price, o.Qty}
		step(fmt.Sprintf("order %d", i+1))
	}
	updates := []struct {
		key    int
		symbol string // as published; the model holds it normalised
		price  float64
		qty    float64
	}{
		{1, " ibm ", 181.5, 10},  // MSFT -> IBM
		{3, "MSFT", 62.1, 300},   // IBM -> MSFT
		{4, "fizz", 61.0, 40},    // same group, new values
		{3, "MSFT", 62.1, 300},   // identical republish
		{16, "orcl", 99.99, 700}, // a new symbol
	}
	for _, u := range updates {
		noErr(t, pub.Publish("Orders", fmt.Appendf(nil, `{"order_key":%d,"symbol":%q,"price":%v,"qty":%v}`, u.key, u.symbol, u.price, u.qty)))
		model[u.key] = order{strings.ToUpper(strings.TrimSpace(u.symbol)), u.price, u.qty}
		step(fmt.Sprintf("update of order %d", u.key))
	}
	// Deleting every order of a symbol removes its view record.
	st, err := pub.Execute(ctx, amps.Command{Name: amps.CmdSowDelete, Topic: "Orders", Filter: "/symbol IN ('FIZZ', 'ORCL')"})
	noErr(t, err)
	for range st.All() {
	}
	for k, o := range model {
		if o.symbol == "FIZZ" || o.symbol == "ORCL" {
			delete(model, k)
		}
	}
	step("delete of FIZZ and ORCL")
	// Moving IBM's orders away one by one empties the IBM group: the
	// filtered subscriber gets an oof.
	for k, o := range model {
		if o.symbol == "IBM" {
			noErr(t, pub.Publish("Orders", fmt.Appendf(nil, `{"order_key":%d,"symbol":"YUM","price":%v,"qty":%v}`, k, o.price, o.qty)))
			model[k] = order{"YUM", o.price, o.qty}
		}
	}
	step("IBM emptied")

	final := sowQuery(t, pub, "OrdersBySymbol", "")
	noErr(t, sub.Flush(ctx))
	assembled := map[string]string{}
	for _, m := range all.all() {
		switch m.Command {
		case amps.MsgSow, amps.MsgPublish:
			assembled[m.SowKey] = string(m.Data)
		}
	}
	// The unfiltered subscriber got no oof, so it still holds the groups
	// that disappeared; every other record must be the view's.
	for k, v := range final {
		require(t, assembled[k] == v, "subscriber holds %q for %s, view has %q", assembled[k], k, v)
	}
	var ibmMsgs []string
	for _, m := range ibm.all() {
		if m.Command == amps.MsgPublish || m.Command == amps.MsgOOF {
			ibmMsgs = append(ibmMsgs, m.Command+"("+m.Reason+")")
		}
		if m.Command == amps.MsgPublish {
			require(t, strings.Contains(string(m.Data), `"symbol":"IBM"`), "filtered subscriber got %s", m.Data)
		}
	}
	require(t, len(ibmMsgs) > 1 && ibmMsgs[len(ibmMsgs)-1] == "oof(deleted)", "IBM subscriber: %v", ibmMsgs)
}

// TestViewConflatedSubscription: a subscription with conflation=1s to a
// view gets, per group, one update per interval carrying the group's latest
// state.
func TestViewConflatedSubscription(t *testing.T) {
	clk := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	s := viewsServer(t, t.TempDir(), WithClock(clk))
	ctx := testCtx(t)
	sub := ampsClient(t, s, "conf-sub")
	var got collector
	_, err := sub.ExecuteHandler(ctx, amps.Command{Name: amps.CmdSubscribe, Topic: "OrdersBySymbol", Options: "conflation=1s"}, got.handle)
	noErr(t, err)
	pub := ampsClient(t, s, "conf-pub")
	for _, o := range []string{
		`{"order_key":3,"symbol":"IBM","price":180.40,"qty":125}`,
		`{"order_key":1,"symbol":"MSFT","price":62.15,"qty":100}`,
		`{"order_key":6,"symbol":"IBM","price":181.02,"qty":200}`,
		`{"order_key":9,"symbol":"IBM","price":180.90,"qty":750}`,
	} {
		noErr(t, pub.Publish("Orders", []byte(o)))
	}
	noErr(t, pub.Flush(ctx))
	noErr(t, sub.Flush(ctx))
	require(t, len(got.all()) == 0, "delivered before the interval ended: %d messages", len(got.all()))
	clk.Advance(time.Second)
	waitFor(t, "conflated view updates", func() bool { return len(got.all()) >= 2 })
	noErr(t, sub.Flush(ctx))
	var bodies []string
	for _, m := range got.all() {
		require(t, m.Command == amps.MsgPublish && m.Topic == "OrdersBySymbol" && m.SowKey != "", "%+v", m.Header)
		bodies = append(bodies, string(m.Data))
	}
	sort.Strings(bodies)
	want := []string{
		`{"symbol":"IBM","avg_price":180.773333333333,"avg_total":64809.6666666667,"orders":3}`,
		`{"symbol":"MSFT","avg_price":62.15,"avg_total":6215.0,"orders":1}`,
	}
	require(t, strings.Join(bodies, "\n") == strings.Join(want, "\n"), "got\n%s\nwant\n%s", strings.Join(bodies, "\n"), strings.Join(want, "\n"))
}

// TestViewRefusesWrites: publishes, delta publishes and sow_deletes to a
// view fail with "invalid topic" and leave the view alone.
func TestViewRefusesWrites(t *testing.T) {
	s := viewsServer(t, t.TempDir())
	ctx := testCtx(t)
	c := ampsClient(t, s, "writer")
	noErr(t, c.Publish("Orders", []byte(`{"order_key":1,"symbol":"MSFT","price":62.15,"qty":100}`)))
	noErr(t, c.Flush(ctx))
	before := sowQuery(t, c, "OrdersBySymbol", "")
	for _, cmd := range []amps.Command{
		{Name: amps.CmdPublish, Topic: "OrdersBySymbol", Data: []byte(`{"symbol":"MSFT","avg_price":1}`), AckType: amps.AckProcessed},
		{Name: amps.CmdDeltaPublish, Topic: "OrdersBySymbol", Data: []byte(`{"symbol":"MSFT","orders":9}`), AckType: amps.AckProcessed},
		{Name: amps.CmdSowDelete, Topic: "OrdersBySymbol", Filter: "1=1"},
	} {
		_, err := c.Execute(ctx, cmd)
		require(t, errors.Is(err, amps.ErrInvalidTopic), "%s to a view: %v", cmd.Name, err)
	}
	after := sowQuery(t, c, "OrdersBySymbol", "")
	require(t, fmt.Sprint(before) == fmt.Sprint(after) && len(after) == 1, "view changed: %v -> %v", before, after)
	// A regex sow_delete covering the view deletes from the SOW topic only.
	st, err := c.Execute(ctx, amps.Command{Name: amps.CmdSowDelete, Topic: "^Orders", Filter: "1=1", AckType: amps.AckStats})
	noErr(t, err)
	deleted := -1
	for m := range st.All() {
		if m.AckType == amps.AckStats {
			deleted = m.RecordsDeleted
		}
	}
	require(t, deleted == 1, "records deleted: %d", deleted)
	require(t, len(sowQuery(t, c, "OrdersBySymbol", "")) == 0, "view not emptied by the delete of its only order")
}

// TestViewRebuiltAtRestart: the view is not stored; after a restart it is
// rebuilt from the persistent Orders SOW, identical (SowKeys included), and
// maintained from there.
func TestViewRebuiltAtRestart(t *testing.T) {
	dir := t.TempDir()
	cfg, err := LoadConfig(filepath.Join("..", "examples", "views", "amps-config.xml"))
	noErr(t, err)
	cfg.Transports[0].InetAddr = "127.0.0.1:0"
	cfg.SOW[0].FileName = filepath.Join(dir, "%n-json.sow")
	ctx := testCtx(t)
	s1, err := New(cfg, WithLogger(quietLogger()))
	noErr(t, err)
	noErr(t, s1.Start(ctx))
	c := ampsClient(t, s1, "before")
	for _, line := range exampleLines(t, "messages.json") {
		noErr(t, c.Publish("Orders", []byte(line)))
	}
	noErr(t, c.Flush(ctx))
	wantBySymbol := sowQuery(t, c, "OrdersBySymbol", "")
	wantLarge := sowQuery(t, c, "LargeOrders", "")
	require(t, len(wantBySymbol) == 4 && len(wantLarge) == 3, "before restart: %v %v", wantBySymbol, wantLarge)
	c.Close()
	noErr(t, s1.Shutdown(ctx))

	s2 := startServer(t, cfg)
	c2 := ampsClient(t, s2, "after")
	gotBySymbol := sowQuery(t, c2, "OrdersBySymbol", "")
	gotLarge := sowQuery(t, c2, "LargeOrders", "")
	require(t, fmt.Sprint(gotBySymbol) == fmt.Sprint(wantBySymbol), "OrdersBySymbol after restart\n%v\nwant\n%v", gotBySymbol, wantBySymbol)
	require(t, fmt.Sprint(gotLarge) == fmt.Sprint(wantLarge), "LargeOrders after restart\n%v\nwant\n%v", gotLarge, wantLarge)
	noErr(t, c2.Publish("Orders", []byte(`{"order_key":16,"symbol":"yum","price":10,"qty":1000}`)))
	noErr(t, c2.Flush(ctx))
	found := false
	for _, v := range sowQuery(t, c2, "LargeOrders", "/symbol = 'YUM'") {
		found = v == `{"symbol":"YUM","large_orders":1,"large_value":10000}`
	}
	require(t, found, "LargeOrders not maintained after restart: %v", sowQuery(t, c2, "LargeOrders", ""))
}

// TestEnrichmentAndPreprocessing: subscribers and the SOW get the processed
// message (preprocessed symbol, enriched /total, /placed_by kept from the
// previous record); fields keep their order, new ones are appended.
func TestEnrichmentAndPreprocessing(t *testing.T) {
	s := viewsServer(t, t.TempDir())
	ctx := testCtx(t)
	sub := ampsClient(t, s, "enrich-sub")
	var got collector
	_, err := sub.ExecuteHandler(ctx, amps.Command{Name: amps.CmdSubscribe, Topic: "Orders"}, got.handle)
	noErr(t, err)
	pub := ampsClient(t, s, "enrich-pub")
	for _, o := range []string{
		`{"order_key":1, "symbol":" msft", "price":62.15, "qty":100, "placed_by":"ann"}`,
		`{"order_key":1, "symbol":"MSFT", "price":62.15, "qty":200, "placed_by":"bob"}`,
		`{"order_key":2, "symbol":"ibm", "price":180.4, "qty":125}`,
	} {
		noErr(t, pub.Publish("Orders", []byte(o)))
	}
	noErr(t, pub.Flush(ctx))
	noErr(t, sub.Flush(ctx))
	want := []string{
		`{"order_key":1,"symbol":"MSFT","price":62.15,"qty":100,"placed_by":"ann","total":6215.0}`,
		`{"order_key":1,"symbol":"MSFT","price":62.15,"qty":200,"placed_by":"ann","total":12430.0}`,
		`{"order_key":2,"symbol":"IBM","price":180.4,"qty":125,"total":22550.0}`,
	}
	var bodies []string
	for _, m := range got.all() {
		bodies = append(bodies, string(m.Data))
	}
	require(t, strings.Join(bodies, "\n") == strings.Join(want, "\n"), "got\n%s\nwant\n%s", strings.Join(bodies, "\n"), strings.Join(want, "\n"))
	stored := values(sowQuery(t, pub, "Orders", ""))
	require(t, strings.Join(stored, "\n") == strings.Join(want[1:], "\n"), "SOW holds\n%s", strings.Join(stored, "\n"))
}

// preprocessingConfig has a topic keyed by a field that preprocessing
// normalises, and enrichment that reads the previous record of a
// delta_publish.
const preprocessingConfig = `<AMPSConfig>
  <Name>pre</Name>
  <Transports><Transport><Name>t</Name><Type>tcp</Type><InetAddr>127.0.0.1:0</InetAddr><Protocol>amps</Protocol></Transport></Transports>
  <SOW>
    <Topic>
      <Name>Accounts</Name>
      <MessageType>json</MessageType>
      <Key>/id</Key>
      <Preprocessing>
        <Field>LOWER(TRIM(/id)) AS /id</Field>
      </Preprocessing>
      <Enrichment>
        <Field>COALESCE(/balance OF CURRENT, 0) - COALESCE(/balance OF PREVIOUS, 0) AS /change</Field>
      </Enrichment>
    </Topic>
  </SOW>
</AMPSConfig>`

func TestPreprocessingBuildsTheKey(t *testing.T) {
	cfg, err := ParseConfig("pre.xml", []byte(preprocessingConfig))
	noErr(t, err)
	s := startServer(t, cfg)
	ctx := testCtx(t)
	c := ampsClient(t, s, "pre")
	for _, m := range []string{`{"id":" Ann ","balance":10}`, `{"id":"ANN","balance":25}`, `{"id":"bob","balance":5}`} {
		noErr(t, c.Publish("Accounts", []byte(m)))
	}
	noErr(t, c.DeltaPublish("Accounts", []byte(`{"id":"  BOB","balance":7}`)))
	noErr(t, c.Flush(ctx))
	recs := sowQuery(t, c, "Accounts", "")
	require(t, strings.Join(values(recs), "\n") == `{"id":"ann","balance":25,"change":15}`+"\n"+`{"id":"bob","balance":7,"change":2}`,
		"records:\n%s", strings.Join(values(recs), "\n"))
	// The key is the normalised one: a query by the key of {"id":"ann"}
	// finds the record.
	var annKey string
	for k, v := range recs {
		if strings.Contains(v, `"ann"`) {
			annKey = k
		}
	}
	tp := s.topics["Accounts"]
	require(t, annKey == tp.sowKey([]byte(`{"id":"ann"}`)), "SowKey %s is not the key of the normalised id", annKey)
}

// TestViewConfigErrors: mistakes in views, preprocessing and enrichment are
// configuration errors naming the element and its line.
func TestViewConfigErrors(t *testing.T) {
	head := "<AMPSConfig>\n<Name>x</Name>\n<SOW>\n<Topic><Name>Orders</Name><MessageType>json</MessageType><Key>/k</Key></Topic>\n"
	tail := "</SOW>\n</AMPSConfig>\n"
	view := func(body string) string {
		return "<View>\n<Name>V</Name>\n<MessageType>json</MessageType>\n" + body + "</View>\n"
	}
	okParts := "<UnderlyingTopic>Orders</UnderlyingTopic>\n<Projection><Field>/s</Field></Projection>\n<Grouping><Field>/s</Field></Grouping>\n"
	tests := []struct {
		name    string
		sow     string
		element string
		line    int
		msg     string
	}{
		{"no underlying", view("<Projection><Field>/s</Field></Projection>\n<Grouping><Field>/s</Field></Grouping>\n"), "View", 5, "UnderlyingTopic"},
		{"unknown underlying", view("<UnderlyingTopic>Nope</UnderlyingTopic>\n<Projection><Field>/s</Field></Projection>\n<Grouping><Field>/s</Field></Grouping>\n"), "View", 5, "Nope"},
		{"bad projection", view("<UnderlyingTopic>Orders</UnderlyingTopic>\n<Projection>\n<Field>/s</Field>\n<Field>AVG(/p +) AS /a</Field>\n</Projection>\n<Grouping><Field>/s</Field></Grouping>\n"), "Field", 11, "AVG"},
		{"projection without AS", view("<UnderlyingTopic>Orders</UnderlyingTopic>\n<Projection>\n<Field>SUM(/p)</Field>\n</Projection>\n<Grouping><Field>/s</Field></Grouping>\n"), "Field", 10, "AS"},
		{"bad grouping", view("<UnderlyingTopic>Orders</UnderlyingTopic>\n<Projection><Field>/s</Field></Projection>\n<Grouping>\n<Field>UPPER(/s)</Field>\n</Grouping>\n"), "Field", 11, "grouping"},
		{"bad filter", view(okParts + "<Filter>/s = </Filter>\n"), "Filter", 11, "Filter"},
		{"non-deterministic filter", view(okParts + "<Filter>UNIX_TIMESTAMP() > 0</Filter>\n"), "Filter", 11, "deterministic"},
		{"xml view", "<View>\n<Name>V</Name>\n<MessageType>xml</MessageType>\n" + okParts + "</View>\n", "View", 5, "json"},
		{"no message type", "<View>\n<Name>V</Name>\n" + okParts + "</View>\n", "View", 5, "MessageType"},
		{"join", view("<UnderlyingTopic>\n<Join>[A]./x = [B]./x</Join>\n</UnderlyingTopic>\n"), "Join", 9, "joined"},
		{"name taken", "<View>\n<Name>Orders</Name>\n<MessageType>json</MessageType>\n" + okParts + "</View>\n", "View", 5, "already"},
		{"cycle", "<View>\n<Name>A</Name>\n<MessageType>json</MessageType>\n<UnderlyingTopic>B</UnderlyingTopic>\n<Projection><Field>/s</Field></Projection>\n<Grouping><Field>/s</Field></Grouping>\n</View>\n" +
			"<View>\n<Name>B</Name>\n<MessageType>json</MessageType>\n<UnderlyingTopic>A</UnderlyingTopic>\n<Projection><Field>/s</Field></Projection>\n<Grouping><Field>/s</Field></Grouping>\n</View>\n", "View", 5, "cycle"},
		{"bad enrichment", "<Topic><Name>T</Name><Key>/k</Key>\n<Enrichment>\n<Field>/a * AS /b</Field>\n</Enrichment>\n</Topic>\n", "Field", 7, "Enrichment field"},
		{"previous in preprocessing", "<Topic><Name>T</Name><Key>/k</Key>\n<Preprocessing>\n<Field>/a OF PREVIOUS AS /a</Field>\n</Preprocessing>\n</Topic>\n", "Field", 7, "OF PREVIOUS"},
		{"empty enrichment", "<Topic><Name>T</Name><Key>/k</Key>\n<Enrichment>\n</Enrichment>\n</Topic>\n", "Enrichment", 6, "at least one Field"},
		{"overlapping fields", "<Topic><Name>T</Name><Key>/k</Key>\n<Enrichment>\n<Field>1 AS /a</Field>\n<Field>2 AS /a/b</Field>\n</Enrichment>\n</Topic>\n", "Enrichment", 6, "overlaps"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig("v.xml", []byte(head+tt.sow+tail))
			var ce *ConfigError
			require(t, errors.As(err, &ce), "want a ConfigError, got %v", err)
			require(t, ce.Element == tt.element && ce.Line == tt.line && strings.Contains(ce.Msg, tt.msg),
				"got %v (element %s, line %d), want <%s> line %d containing %q", err, ce.Element, ce.Line, tt.element, tt.line, tt.msg)
		})
	}
}

// TestViewOverViewAndInCode: views built in code (not from XML) are
// checked by New, and a view may aggregate another view.
func TestViewOverViewAndInCode(t *testing.T) {
	cfg := ordersConfig("")
	cfg.Views = []ViewConfig{
		{Name: "Counts", MessageType: "json", UnderlyingTopic: "BySymbol", Projection: []string{"/n", "COUNT(/symbol) AS /symbols"}, Grouping: []string{"/n"}},
		{Name: "BySymbol", MessageType: "json", UnderlyingTopic: "Orders", Projection: []string{"/symbol", "COUNT(/order_key) AS /n"}, Grouping: []string{"/symbol"}},
	}
	s := startServer(t, cfg)
	ctx := testCtx(t)
	c := ampsClient(t, s, "vov")
	for i, sym := range []string{"A", "B", "A", "C"} {
		noErr(t, c.Publish("Orders", fmt.Appendf(nil, `{"order_key":%d,"symbol":%q}`, i, sym)))
	}
	noErr(t, c.Flush(ctx))
	got := strings.Join(values(sowQuery(t, c, "Counts", "")), "\n")
	require(t, got == `{"n":1,"symbols":2}`+"\n"+`{"n":2,"symbols":1}`, "Counts:\n%s", got)
	// Regex queries lock views after their underlying topics.
	all := sowQuery(t, c, ".*", "")
	require(t, len(all) == 4+3+2, "regex query over topics and views: %d records", len(all))

	bad := ordersConfig("")
	bad.Views = []ViewConfig{{Name: "V", MessageType: "json", UnderlyingTopic: "Orders", Projection: []string{"AVG(/p)"}, Grouping: []string{"/s"}}}
	_, err := New(bad, WithLogger(quietLogger()))
	require(t, err != nil && strings.Contains(err.Error(), `view "V"`), "New accepted a bad view: %v", err)
	bad.Views = []ViewConfig{{Name: "V", MessageType: "json", UnderlyingTopic: "Nope", Projection: []string{"/s"}, Grouping: []string{"/s"}}}
	_, err = New(bad, WithLogger(quietLogger()))
	require(t, err != nil && strings.Contains(err.Error(), "Nope"), "New accepted a view over a missing topic: %v", err)
}

// TestViewDeltaSubscription: a delta subscriber to a view gets the changed
// fields of a group plus its grouping field.
func TestViewDeltaSubscription(t *testing.T) {
	s := viewsServer(t, t.TempDir())
	ctx := testCtx(t)
	pub := ampsClient(t, s, "delta-pub")
	noErr(t, pub.Publish("Orders", []byte(`{"order_key":1,"symbol":"MSFT","price":62.15,"qty":100}`)))
	noErr(t, pub.Flush(ctx))
	sub := ampsClient(t, s, "delta-sub")
	var got collector
	_, err := sub.ExecuteHandler(ctx, amps.Command{Name: amps.CmdSowAndDeltaSubscribe, Topic: "OrdersBySymbol"}, got.handle)
	noErr(t, err)
	noErr(t, pub.Publish("Orders", []byte(`{"order_key":1,"symbol":"MSFT","price":62.15,"qty":300}`)))
	noErr(t, pub.Flush(ctx))
	noErr(t, sub.Flush(ctx))
	var live []string
	for _, m := range got.all() {
		if m.Command == amps.MsgPublish {
			live = append(live, string(m.Data))
		}
	}
	require(t, len(live) == 1 && live[0] == `{"symbol":"MSFT","avg_total":18645.0}`, "deltas: %v", live)
}
