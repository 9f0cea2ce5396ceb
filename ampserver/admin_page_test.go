package ampserver

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func adminGet(t *testing.T, s *Server, path, accept string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", "http://"+s.AdminAddr().String()+path, nil)
	noErr(t, err)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	noErr(t, err)
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	noErr(t, err)
	return resp, string(b)
}

func pageStatusOf(t *testing.T, s *Server) AdminPageStatus {
	t.Helper()
	resp, body := adminGet(t, s, "/status.json", "")
	require(t, resp.StatusCode == 200, "status.json: %d %s", resp.StatusCode, body)
	var st AdminPageStatus
	noErr(t, json.Unmarshal([]byte(body), &st))
	return st
}

func topicOf(st AdminPageStatus, name string) *AdminPageTopic {
	for i := range st.Topics {
		if st.Topics[i].Name == name {
			return &st.Topics[i]
		}
	}
	return nil
}

func TestAdminPageStatusRates(t *testing.T) {
	clk := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	cfg := ordersConfig("")
	cfg.Admin.InetAddr = "127.0.0.1:0"
	s := startServer(t, cfg, WithClock(clk))
	t.Cleanup(http.DefaultClient.CloseIdleConnections)
	c := dial(t, s.TCPAddr())
	c.logon("pub")
	publishOrders(t, c, 4)

	st := pageStatusOf(t, s)
	orders := topicOf(st, "Orders")
	require(t, orders != nil && orders.MessagesIn == 4 && orders.SOWRecords == 4 && orders.InRate == nil, "first sample %+v", orders)
	require(t, st.Totals.Clients == 1 && st.Totals.MessagesIn == 4 && st.Totals.SOWRecords == 4 && st.Totals.InRate == nil, "totals %+v", st.Totals)
	require(t, st.Time == clk.Now().UnixMilli(), "time %d", st.Time)

	// Six more orders over two seconds: 3 a second. Order keys 1..6 update
	// four records and add two.
	publishOrders(t, c, 6)
	clk.Advance(2 * time.Second)
	st = pageStatusOf(t, s)
	orders = topicOf(st, "Orders")
	require(t, orders != nil && orders.InRate != nil && *orders.InRate == 3 && *orders.OutRate == 0, "rates %+v", orders)
	require(t, st.Totals.InRate != nil && *st.Totals.InRate == 3 && st.Totals.SOWRecords == 6, "totals %+v", st.Totals)
	require(t, len(st.Clients) == 1 && st.Clients[0].Name == "pub" && st.Clients[0].InRate != nil && *st.Clients[0].InRate > 0, "clients %+v", st.Clients)

	// Within the measuring window the rates are repeated, not remeasured
	// over a tiny interval.
	publishOrders(t, c, 1)
	clk.Advance(100 * time.Millisecond)
	st = pageStatusOf(t, s)
	orders = topicOf(st, "Orders")
	require(t, orders.MessagesIn == 11 && *orders.InRate == 3, "repeated rates %+v", orders)
}

func TestAdminPageRoutes(t *testing.T) {
	cfg := ordersConfig("")
	cfg.Admin.InetAddr = "127.0.0.1:0"
	s := startServer(t, cfg)
	t.Cleanup(http.DefaultClient.CloseIdleConnections)
	for _, tc := range []struct {
		path, accept string
		code         int
		contentType  string
		contains     string
	}{
		{"/", "text/html,application/xhtml+xml,*/*;q=0.8", 200, "text/html", `src="static/admin.js"`},
		{"/", "", 200, "application/json", `"topics"`}, // scripts keep the JSON
		{"/", "application/json", 200, "application/json", `"clients"`},
		{"/static/admin.js", "", 200, "text/javascript", "status.json"},
		{"/static/admin.css", "", 200, "text/css", "table.grid"},
		{"/static/index.html", "", 404, "", ""},
		{"/status.json", "", 200, "application/json", `"totals"`},
		{"/amps", "", 200, "application/json", `"topics"`},
	} {
		resp, body := adminGet(t, s, tc.path, tc.accept)
		if resp.StatusCode != tc.code {
			t.Errorf("%s (%s) = %d, want %d", tc.path, tc.accept, resp.StatusCode, tc.code)
			continue
		}
		if !strings.HasPrefix(resp.Header.Get("Content-Type"), tc.contentType) || !strings.Contains(body, tc.contains) {
			t.Errorf("%s (%s): %s, body lacks %q", tc.path, tc.accept, resp.Header.Get("Content-Type"), tc.contains)
		}
	}
}

func TestAcceptsHTML(t *testing.T) {
	for accept, want := range map[string]bool{
		"":                           false,
		"*/*":                        false,
		"application/json":           false,
		"text/html":                  true,
		"TEXT/HTML; q=0.9":           true,
		"application/json,text/html": true,
		"text/htmlx":                 false,
	} {
		r, _ := http.NewRequest("GET", "/", nil)
		r.Header.Set("Accept", accept)
		if got := acceptsHTML(r); got != want {
			t.Errorf("%q = %v", accept, got)
		}
	}
}

// FuzzAcceptsHTML checks that any Accept header is read without panicking
// and that the page is served only when text/html is named.
func FuzzAcceptsHTML(f *testing.F) {
	for _, s := range []string{"", "text/html", "application/json;q=0.9, TEXT/HTML", ",,;", "text/html;;;q="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, accept string) {
		r, _ := http.NewRequest("GET", "/", nil)
		r.Header["Accept"] = []string{accept}
		if acceptsHTML(r) && !strings.Contains(strings.ToLower(accept), "text/html") {
			t.Fatalf("%q taken for HTML", accept)
		}
	})
}
