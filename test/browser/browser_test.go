package browser

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	ampsclient "ampsflume/amps"
	"ampsflume/ampserver"
	"ampsflume/flume/agent"
	"ampsflume/flume/config"
	"ampsflume/flume/monitor"

	// Only the components the agent under test uses, as flume-ng links
	// every one of them.
	_ "ampsflume/channels/memory"
	_ "ampsflume/sinks/null"
	_ "ampsflume/sources/amps"
	_ "ampsflume/sources/netcat"
)

// chromiumPath is where the tests expect the browser; they never install it.
const chromiumPath = "/usr/bin/chromium"

// pageTimeout bounds every wait on the page.
const pageTimeout = 30 * time.Second

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// requireChromium fails under CI and skips loudly elsewhere when the browser
// is missing.
func requireChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err == nil {
		return
	}
	msg := chromiumPath + " is not installed: the status pages are NOT tested in a browser (install the chromium package)"
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip("SKIPPED: " + msg + "; set CI to make this a failure")
}

// newBrowser starts a headless Chromium with a fresh profile and returns a
// tab's context. The flags keep Chromium from reaching out to the network
// on its own (background networking, component updates, sync), which a
// closed network refuses.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	requireChromium(t)
	var output bytes.Buffer
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 1000),
		chromedp.CombinedOutput(&output),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// The first Run starts the browser; it must not carry a timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v\n%s", err, output.String())
	}
	return ctx
}

// navigate opens url in the tab.
func navigate(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, pageTimeout)
	defer cancel()
	if err := chromedp.Do(tctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("navigate %s: %v", url, err)
	}
}

// waitFor polls the JavaScript predicate in the page until it is true; on
// timeout it fails with what describe (a JavaScript expression) says about
// the page then.
func waitFor(t *testing.T, ctx context.Context, what, predicate, describe string) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, pageTimeout+5*time.Second)
	defer cancel()
	_, err := chromedp.Run(tctx, chromedp.Poll[bool](predicate,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(pageTimeout)))
	if err == nil {
		return
	}
	state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](describe))
	t.Fatalf("waiting for %s: %v\npage: %s", what, err, state)
}

// evaluate returns the value of a JavaScript expression.
func evaluate[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, pageTimeout)
	defer cancel()
	v, err := chromedp.Run(tctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// screenshot saves a PNG of the whole page into the test's temporary
// directory (and into $STATUS_SCREENSHOTS when set) and checks that it is a
// real picture, not a blank page.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, pageTimeout)
	defer cancel()
	b, err := chromedp.Run(tctx, chromedp.FullScreenshot(100)) // 100: PNG
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	if r := img.Bounds(); r.Dx() < 800 || r.Dy() < 400 || colours(img) < 8 {
		t.Fatalf("screenshot %v with %d colours looks blank", r, colours(img))
	}
	dirs := []string{t.TempDir()}
	if d := os.Getenv("STATUS_SCREENSHOTS"); d != "" {
		dirs = append(dirs, d)
	}
	for _, d := range dirs {
		p := filepath.Join(d, name+".png")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", p)
	}
}

// colours counts the distinct colours of a sample of the image's pixels.
func colours(img image.Image) int {
	seen := map[[4]uint32]bool{}
	r := img.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y += 7 {
		for x := r.Min.X; x < r.Max.X; x += 7 {
			cr, cg, cb, ca := img.At(x, y).RGBA()
			seen[[4]uint32{cr, cg, cb, ca}] = true
		}
	}
	return len(seen)
}

// startServer runs an AMPS server with the SOW topic Orders in the
// transaction log (so the agent's bookmark subscription has bookmarks) and
// the admin interface on a free port.
func startServer(t *testing.T) *ampserver.Server {
	t.Helper()
	dir := t.TempDir()
	cfg := ampserver.DefaultConfig()
	cfg.Name = "browser-test"
	cfg.Transports[0].InetAddr = "127.0.0.1:0"
	cfg.Admin.InetAddr = "127.0.0.1:0"
	cfg.SOW = []ampserver.SOWTopicConfig{{Name: "Orders", MessageType: "json", Keys: []string{"/order_key"}}}
	cfg.TransactionLog = &ampserver.TransactionLogConfig{
		JournalDirectory: filepath.Join(dir, "journal"),
		FlushInterval:    5 * time.Millisecond,
		Topics:           []ampserver.TopicRef{{Name: "Orders", MessageType: "json"}},
	}
	s, err := ampserver.New(cfg, ampserver.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	})
	return s
}

func serverURI(s *ampserver.Server) string {
	return "tcp://" + s.TCPAddr().String() + "/amps/json"
}

// freePort returns a port nobody listened on a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// agentConfig is the agent under test: an AMPS source into one channel, a
// netcat source into another drained by a failover group of two sinks and
// into a backlog channel that nothing drains, so that it fills up.
const agentConfig = `a1.sources = orders lines
a1.channels = mem1 mem2 backlog
a1.sinks = drain1 drain2 drain3
a1.sinkgroups = fo

a1.sources.orders.type = amps
a1.sources.orders.clientName = flume-browser
a1.sources.orders.uri = %s
a1.sources.orders.topic = Orders
a1.sources.orders.command = subscribe
a1.sources.orders.subscriptionId = Sub-1
a1.sources.orders.bookmarkLog = %s
a1.sources.orders.maxBatch = 100
a1.sources.orders.channels = mem1

a1.sources.lines.type = netcat
a1.sources.lines.bind = 127.0.0.1
a1.sources.lines.port = %d
a1.sources.lines.channels = mem2 backlog

a1.channels.mem1.type = memory
a1.channels.mem1.capacity = 1000
a1.channels.mem2.type = memory
a1.channels.mem2.capacity = 500
a1.channels.backlog.type = memory
a1.channels.backlog.capacity = 100

a1.sinks.drain1.type = null
a1.sinks.drain1.channel = mem1
a1.sinks.drain2.type = null
a1.sinks.drain2.channel = mem2
a1.sinks.drain3.type = null
a1.sinks.drain3.channel = mem2

a1.sinkgroups.fo.sinks = drain2 drain3
a1.sinkgroups.fo.processor.type = failover
a1.sinkgroups.fo.processor.priority.drain2 = 10
a1.sinkgroups.fo.processor.priority.drain3 = 5
`

// startAgent runs the agent in-process with the HTTP monitor on a free port
// and returns the monitor's address and the netcat port.
func startAgent(t *testing.T, srv *ampserver.Server) (ag *agent.Agent, monitorAddr string, netcatPort int) {
	t.Helper()
	netcatPort = freePort(t)
	text := fmt.Sprintf(agentConfig, serverURI(srv), filepath.Join(t.TempDir(), "bookmarks.log"), netcatPort)
	props, err := config.Parse("browser.properties", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	cfg, probs := props.Agent("a1", config.Options{})
	if probs.HasErrors() {
		t.Fatal(probs.Err())
	}
	ag = agent.New(agent.Options{Logger: quiet})
	if err := ag.Start(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ag.Stop)
	mon, err := monitor.Start(monitor.Config{Type: monitor.KindHTTP, Host: "127.0.0.1", Port: 0}, ag)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := mon.Close(); err != nil {
			t.Error(err)
		}
	})
	return ag, mon.Addr(), netcatPort
}

// publisher is a logged-on AMPS client.
func publisher(t *testing.T, uri, name string) *ampsclient.Client {
	t.Helper()
	c := ampsclient.NewClient(name)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Connect(ctx, uri); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Logon(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func publish(t *testing.T, c *ampsclient.Client, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if err := c.Publish("Orders", fmt.Appendf(nil, `{"order_key":%d,"symbol":"IBM","qty":%d}`, i%7, i)); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// sendLines writes n lines to the netcat source and reads its OKs.
func sendLines(t *testing.T, port, n int) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(pageTimeout))
	br := bufio.NewReader(conn)
	for i := range n {
		if _, err := fmt.Fprintf(conn, "line %d\n", i); err != nil {
			t.Fatal(err)
		}
		if ok, err := br.ReadString('\n'); err != nil || ok != "OK\n" {
			t.Fatalf("netcat answered %q, %v", ok, err)
		}
	}
}

// counterExpr reads a counter as the page shows it on a component's card.
func counterExpr(id, counter string) string {
	return fmt.Sprintf(`Number((document.querySelector('#components [data-id=%q] [data-counter=%q]')||{dataset:{value:-1}}).dataset.value)`, id, counter)
}

const describeAgentPage = `document.body.getAttribute('data-samples') + ' samples; ' + document.body.innerText.slice(0, 4000)`

func TestAgentStatusPage(t *testing.T) {
	ctx := newBrowser(t)
	srv := startServer(t)
	ag, addr, ncPort := startAgent(t, srv)

	navigate(t, ctx, "http://"+addr+"/")
	st := ag.Status()
	if len(st.Nodes) != 12 {
		t.Fatalf("agent status has %d nodes: %+v", len(st.Nodes), st.Nodes)
	}
	// Every component of the running agent appears, on its card and as a
	// box of the graph.
	for _, n := range st.Nodes {
		waitFor(t, ctx, "component "+n.ID,
			fmt.Sprintf(`(function(){var c=document.querySelector('#components [data-id=%q] .name'); var g=document.querySelector('#topology g.node[data-id=%q]');
				return !!c && c.textContent===%q && !!g && g.textContent.indexOf(%q)>=0;})()`, n.ID, n.ID, n.Name, n.Name),
			describeAgentPage)
	}
	for _, c := range ag.Gather() {
		waitFor(t, ctx, "component "+c.Name+" in the page text",
			fmt.Sprintf(`document.getElementById('components').innerText.indexOf(%q) >= 0`, c.Name), describeAgentPage)
	}
	if edges := evaluate[float64](t, ctx, `document.querySelectorAll('#topology path.edge').length`); int(edges) != len(st.Edges) {
		t.Errorf("graph draws %v edges, the agent has %d", edges, len(st.Edges))
	}

	// The AMPS source shows its connection and server.
	waitFor(t, ctx, "the AMPS source connected",
		fmt.Sprintf(`(function(){var i=function(k){var e=document.querySelector('#components [data-id="source:orders"] [data-info='+JSON.stringify(k)+']'); return e?e.textContent:'';};
			return i('connection')==='connected' && i('uri')===%q;})()`, serverURI(srv)), describeAgentPage)

	// Events flow when the test says: lines into netcat, orders into AMPS.
	sendLines(t, ncPort, 25)
	waitFor(t, ctx, "netcat counters to move",
		counterExpr("source:lines", "EventAcceptedCount")+` >= 25 && `+counterExpr("channel:mem2", "EventPutSuccessCount")+` >= 25 && (`+
			counterExpr("sink:drain2", "EventDrainSuccessCount")+` + `+counterExpr("sink:drain3", "EventDrainSuccessCount")+`) >= 25`,
		describeAgentPage)
	pub := publisher(t, serverURI(srv), "browser-publisher")
	publish(t, pub, 0, 40)
	waitFor(t, ctx, "AMPS source counters, bookmark and rate to move",
		counterExpr("source:orders", "EventAcceptedCount")+` >= 40 && `+counterExpr("sink:drain1", "EventDrainSuccessCount")+` >= 40 && `+
			`document.querySelector('#components [data-id="source:orders"] [data-info="lastBookmark"]') !== null`,
		describeAgentPage)
	// A rate is measured between two samples a second apart: keep the
	// events coming until the page has shown one.
	for i := 0; ; i++ {
		publish(t, pub, 40+i*10, 50+i*10)
		tctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		_, err := chromedp.Run(tctx, chromedp.Poll[bool](`Number(document.querySelector('#components [data-id="source:orders"] .rate').dataset.rate) > 0`,
			chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(1500*time.Millisecond)))
		cancel()
		if err == nil {
			break
		}
		if i == 20 {
			t.Fatalf("no rate shown for the AMPS source: %s", evaluate[string](t, ctx, describeAgentPage))
		}
	}
	// The channels' fill bars and their numbers are drawn: 25 lines of 100
	// wait in the backlog.
	waitFor(t, ctx, "fill levels", `document.querySelectorAll('#components .fill').length === 3 && document.querySelectorAll('#topology rect.bar').length === 3 && `+
		`Number(document.querySelector('#components [data-id="channel:backlog"] .fill-text').dataset.fill) === 25 && `+
		`document.querySelector('#topology g.node[data-id="channel:backlog"]').textContent.indexOf('25 / 100') >= 0`, describeAgentPage)
	screenshot(t, ctx, "agent-status")
}

const describeAdminPage = `document.body.getAttribute('data-samples') + ' samples; ' + document.body.innerText.slice(0, 3000)`

// adminField reads a numeric cell of a topics or clients table row.
func adminField(row, field string) string {
	return fmt.Sprintf(`Number((document.querySelector('%s [data-field=%q]')||{dataset:{value:-1}}).dataset.value)`, row, field)
}

func TestServerAdminPage(t *testing.T) {
	ctx := newBrowser(t)
	srv := startServer(t)
	_, _, _ = startAgent(t, srv) // a subscriber, so messages go out too

	pub := publisher(t, serverURI(srv), "admin-publisher")
	navigate(t, ctx, "http://"+srv.AdminAddr().String()+"/")
	waitFor(t, ctx, "the server's name, topic and clients",
		`document.getElementById('server-name').textContent === 'browser-test' && `+
			`!!document.querySelector('#topics tr[data-topic="Orders"]') && `+
			`!!document.querySelector('#clients tr[data-client="admin-publisher"]') && `+
			`!!document.querySelector('#clients tr[data-client="flume-browser"]')`, describeAdminPage)
	waitFor(t, ctx, "the agent's subscription", adminField(`#clients tr[data-client="flume-browser"]`, "subscriptions")+` === 1`, describeAdminPage)

	publish(t, pub, 0, 30)
	orders := `#topics tr[data-topic="Orders"]`
	waitFor(t, ctx, "the topic's counters and SOW size to move",
		adminField(orders, "messages_in")+` >= 30 && `+adminField(orders, "messages_out")+` >= 30 && `+adminField(orders, "sow_records")+` === 7 && `+
			adminField(`#clients tr[data-client="admin-publisher"]`, "messages_in")+` >= 30 && `+
			`Number(document.getElementById('total-sow').textContent) === 7`,
		describeAdminPage)
	for i := 0; ; i++ {
		publish(t, pub, 30+i*10, 40+i*10)
		tctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		_, err := chromedp.Run(tctx, chromedp.Poll[bool](adminField(orders, "in_rate")+` > 0 && document.querySelectorAll('#rate-chart polyline').length === 2`,
			chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(1500*time.Millisecond)))
		cancel()
		if err == nil {
			break
		}
		if i == 20 {
			t.Fatalf("no rate shown for Orders: %s", evaluate[string](t, ctx, describeAdminPage))
		}
	}
	if text := evaluate[string](t, ctx, `document.getElementById('topics').innerText`); !strings.Contains(text, "Orders") {
		t.Errorf("topics table: %s", text)
	}
	screenshot(t, ctx, "admin-status")
}

// TestAgentStatusPagePolling serves the page where event streams are
// refused (as some proxies do) and checks that it falls back to polling
// /status.json and still follows the counters.
func TestAgentStatusPagePolling(t *testing.T) {
	ctx := newBrowser(t)
	srv := startServer(t)
	ag, _, ncPort := startAgent(t, srv)
	page := monitor.JSONHandler(ag)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/events" {
			http.Error(w, "streams are not allowed here", http.StatusForbidden)
			return
		}
		page.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)

	navigate(t, ctx, hs.URL+"/")
	waitFor(t, ctx, "the polling fallback", `document.getElementById('conn').textContent === 'live (polling)' && !!document.querySelector('#components [data-id="source:lines"]')`, describeAgentPage)
	sendLines(t, ncPort, 7)
	waitFor(t, ctx, "counters to move while polling", counterExpr("source:lines", "EventAcceptedCount")+` === 7 && `+counterExpr("channel:backlog", "ChannelSize")+` === 7`, describeAgentPage)
}
