package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "ampsflume/channels/memory"
	"ampsflume/flume/config"
	"ampsflume/internal/poll"
	_ "ampsflume/sinks/null"
	_ "ampsflume/sources/seq"
)

// confServer serves a configuration that tests can change, with an ETag and
// optional basic authentication, and counts what it answered.
type confServer struct {
	*httptest.Server
	mu          sync.Mutex
	body        string
	etag        int
	user, pass  string
	down        bool
	full, not   atomic.Int64 // 200s and 304s
	unauthCount atomic.Int64
	// validator is what lets a client ask conditionally: "etag" (the
	// default), "last-modified" or "none".
	validator string
}

func newConfServer(t *testing.T, body string) *confServer {
	t.Helper()
	s := &confServer{body: body, etag: 1}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *confServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
		return
	}
	if s.user != "" {
		if u, p, ok := r.BasicAuth(); !ok || u != s.user || p != s.pass {
			s.unauthCount.Add(1)
			w.Header().Set("WWW-Authenticate", `Basic realm="flume"`)
			http.Error(w, "who are you", http.StatusUnauthorized)
			return
		}
	}
	tag := fmt.Sprintf(`"v%d"`, s.etag)
	// Each version is a second later than the previous one.
	modified := time.Date(2026, 1, 1, 0, 0, s.etag, 0, time.UTC).Format(http.TimeFormat)
	switch s.validator {
	case "", "etag":
		if r.Header.Get("If-None-Match") == tag {
			s.not.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", tag)
	case "last-modified":
		if r.Header.Get("If-Modified-Since") == modified {
			s.not.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Last-Modified", modified)
	}
	s.full.Add(1)
	io.WriteString(w, s.body)
}

func (s *confServer) set(body string) {
	s.mu.Lock()
	s.body = body
	s.etag++
	s.mu.Unlock()
}

func (s *confServer) setDown(down bool) {
	s.mu.Lock()
	s.down = down
	s.mu.Unlock()
}

// syncBuffer is a bytes.Buffer that the agent's goroutines and the test can
// share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// runningAgent starts `flume-ng agent args...` and stops it when the test
// ends; the returned function reports whether it has exited, and how.
func runningAgent(t *testing.T, args ...string) (stderr *syncBuffer, exited func() (int, bool)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stderr = &syncBuffer{}
	done := make(chan int, 1)
	go func() { done <- Run(ctx, append([]string{"agent"}, args...), io.Discard, stderr) }()
	var code int
	var finished bool
	exited = func() (int, bool) {
		if !finished {
			select {
			case code = <-done:
				finished = true
			default:
			}
		}
		return code, finished
	}
	t.Cleanup(func() {
		cancel()
		if _, ok := exited(); !ok {
			code, finished = <-done, true
		}
	})
	return stderr, exited
}

func waitLog(t *testing.T, buf *syncBuffer, want string) {
	t.Helper()
	poll.Until(t, 20*time.Second, func() error {
		if !strings.Contains(buf.String(), want) {
			return fmt.Errorf("no %q in the log:\n%s", want, buf.String())
		}
		return nil
	})
}

// seqConf is a runnable agent: seq → memory → null.
func seqConf(events int) string {
	return fmt.Sprintf("a.sources = s\na.channels = c\na.sinks = k\na.sources.s.type = seq\na.sources.s.totalEvents = %d\n"+
		"a.sources.s.channels = c\na.channels.c.type = memory\na.sinks.k.type = null\na.sinks.k.channel = c\n", events)
}

// TestConfURIMergeOrder: URIs merge in order, then files, and a later
// source's key replaces an earlier one's (java.util.Properties.load in
// sequence, as Flume 1.10 does); every value keeps its source and line.
func TestConfURIMergeOrder(t *testing.T) {
	first := newConfServer(t, "a.channels = c1\na.channels.c1.type = clichan\na.channels.c1.path = from-uri1\na.channels.c1.capacity = 1\n")
	second := newConfServer(t, "# second\na.channels.c1.capacity = 2\n")
	dir := t.TempDir()
	file := filepath.Join(dir, "f.properties")
	writeFile(t, file, "a.channels.c1.path = from-file\n")
	third := filepath.Join(dir, "u3.properties")
	writeFile(t, third, "\n\na.channels.c1.capacity = 3\n")
	// The file is given first on the command line: files still come after
	// every URI.
	o, err := parseArgs([]string{"-n", "a", "-f", file, "-u", first.URL + "/one", "--conf-uri=" + second.URL + "/two", "-u", "file://" + third})
	if err != nil {
		t.Fatal(err)
	}
	rem, err := openRemote(context.Background(), o, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	cfg, _, err := load(o, rem)
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.Channel("c1")
	if c == nil {
		t.Fatal("no channel c1")
	}
	for key, want := range map[string]string{
		"path":     "from-file@" + file + ":1",
		"capacity": "3@file://" + third + ":3",
		"type":     "clichan@" + first.URL + "/one:2",
	} {
		p := c.Props[key]
		if got := p.Value + "@" + p.Loc.String(); got != want {
			t.Errorf("%s = %s, want %s", key, got, want)
		}
	}
}

// TestConfURIErrorLocations: a problem in a fetched configuration names the
// URI and the line, like a file's.
func TestConfURIErrorLocations(t *testing.T) {
	srv := newConfServer(t, "a.channels = c1\na.channels.c1.type = clichan\na.channels.c1.path = x\na.channels.c1.capasity = 5\n")
	code, _, errOut := run(t, "validate", "-n", "a", "-u", srv.URL+"/agent.properties")
	if code == 0 {
		t.Fatal("a configuration with an error validated")
	}
	if want := srv.URL + "/agent.properties:4: channel \"c1\": key \"capasity\""; !strings.Contains(errOut, want) {
		t.Fatalf("missing %q in:\n%s", want, errOut)
	}
	bad := newConfServer(t, "a.channels = c1\na.x = \\u12\n")
	if code, _, errOut := run(t, "validate", "-n", "a", "-u", bad.URL+"/bad"); code == 0 || !strings.Contains(errOut, bad.URL+"/bad:2:") {
		t.Fatalf("syntax error: %d %s", code, errOut)
	}
}

// TestConfURIBasicAuth: --conf-user/--conf-password are sent as basic
// authentication; a refusal says what to change; the password never
// appears in the output.
func TestConfURIBasicAuth(t *testing.T) {
	const secret = "s3cret-pw"
	srv := newConfServer(t, seqConf(1))
	srv.user, srv.pass = "flume", secret
	url := srv.URL + "/conf"

	code, _, errOut := run(t, "validate", "-n", "a", "-u", url)
	if code != 1 || !strings.Contains(errOut, "401 Unauthorized") || !strings.Contains(errOut, "pass --conf-user and --conf-password") || !strings.Contains(errOut, url) {
		t.Fatalf("no credentials: %d %s", code, errOut)
	}
	code, _, errOut = run(t, "validate", "-n", "a", "-u", url, "--conf-user", "flume", "--conf-password", "wrong-"+secret)
	if code != 1 || !strings.Contains(errOut, "401 Unauthorized") || !strings.Contains(errOut, `check --conf-user "flume"`) || strings.Contains(errOut, secret) {
		t.Fatalf("wrong password: %d %s", code, errOut)
	}
	if code, out, errOut := run(t, "validate", "-n", "a", "-u", url, "--conf-user", "flume", "--conf-password", secret); code != 0 || strings.Contains(out+errOut, secret) {
		t.Fatalf("right password: %d %s %s", code, out, errOut)
	}
	if code, _, errOut := run(t, "validate", "-n", "a", "-u", url, "--conf-user", "flume"); code != 1 || !strings.Contains(errOut, "go together") {
		t.Fatalf("user without password: %d %s", code, errOut)
	}

	// The running agent: debug logging on, and still no password.
	log, _ := runningAgent(t, "-n", "a", "-u", url, "--conf-user", "flume", "--conf-password", secret, "-Dflume.root.logger=DEBUG,console")
	waitLog(t, log, "agent started")
	if strings.Contains(log.String(), secret) {
		t.Fatalf("password logged:\n%s", log.String())
	}
	if srv.unauthCount.Load() != 2 {
		t.Fatalf("%d refusals, want the 2 of the validations without the right password", srv.unauthCount.Load())
	}
}

// TestConfURIConditionalPoll: once fetched, a URI is asked with its ETag; an
// unchanged configuration is a 304 and no change; a changed one is.
// A server without validators is compared by content.
func TestConfURIConditionalPoll(t *testing.T) {
	for _, validator := range []string{"etag", "last-modified", "none"} {
		t.Run(validator, func(t *testing.T) {
			srv := newConfServer(t, seqConf(1))
			srv.validator = validator
			noValidator := validator == "none"
			o := &options{name: "a", uris: []string{srv.URL}}
			rem, err := openRemote(context.Background(), o, quietLog())
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 3; i++ {
				if changed, err := rem.refresh(context.Background()); err != nil || changed {
					t.Fatalf("unchanged round %d: changed=%v err=%v", i, changed, err)
				}
			}
			if !noValidator && (srv.not.Load() != 3 || srv.full.Load() != 1) {
				t.Fatalf("%d 304s and %d 200s, want 3 and 1", srv.not.Load(), srv.full.Load())
			}
			srv.set(seqConf(2))
			if changed, err := rem.refresh(context.Background()); err != nil || !changed {
				t.Fatalf("changed: changed=%v err=%v", changed, err)
			}
			if got := string(rem.configSources()[0].Data); got != seqConf(2) {
				t.Fatalf("content %q", got)
			}
		})
	}
}

// TestConfURIReloadAndOutage: a running agent reloads a changed URI through
// the same path as a changed file; an unchanged one (304) is not reloaded;
// an unreachable one keeps the running configuration and the agent.
func TestConfURIReloadAndOutage(t *testing.T) {
	srv := newConfServer(t, seqConf(1))
	backup := t.TempDir()
	log, exited := runningAgent(t, "-n", "a", "-u", srv.URL+"/a.properties", "-i", "0.02", "-b", backup)
	waitLog(t, log, "agent started")
	// Several polls answered 304: nothing reloaded.
	poll.Until(t, 20*time.Second, func() error {
		if n := srv.not.Load(); n < 3 {
			return fmt.Errorf("%d conditional polls", n)
		}
		return nil
	})
	if strings.Contains(log.String(), "configuration changed") {
		t.Fatalf("reloaded an unchanged configuration:\n%s", log.String())
	}

	srv.set(seqConf(7))
	waitLog(t, log, "configuration reloaded")
	data, err := os.ReadFile(filepath.Join(backup, ".a.properties"))
	if err != nil || !strings.Contains(string(data), "a.sources.s.totalEvents = 7") {
		t.Fatalf("backup after reload: %v\n%s", err, data)
	}

	srv.setDown(true)
	waitLog(t, log, "keeping the running configuration")
	if code, done := exited(); done {
		t.Fatalf("agent exited (%d) on an unreachable URI:\n%s", code, log.String())
	}
	// Back with a change: applied.
	srv.set(seqConf(9))
	srv.setDown(false)
	poll.Until(t, 20*time.Second, func() error {
		if n := strings.Count(log.String(), "configuration reloaded"); n != 2 {
			return fmt.Errorf("%d reloads:\n%s", n, log.String())
		}
		return nil
	})
}

// TestConfURIBackup: the backup is the URIs' merged configuration in
// <dir>/.<agent>.properties, written atomically; a URI unreachable at start
// falls back to it with a warning, and without one start-up fails naming
// the URI.
func TestConfURIBackup(t *testing.T) {
	srv := newConfServer(t, seqConf(3)+"a.sources.s.x\\ y = has = and : and\\\\ and \\u00e9\n")
	second := newConfServer(t, "a.sources.s.totalEvents = 4\n")
	dir := filepath.Join(t.TempDir(), "backups") // created on demand
	o := &options{name: "a", uris: []string{srv.URL, second.URL}, backupDir: dir}
	rem, err := openRemote(context.Background(), o, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	if err := rem.saveBackup(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, ".a.properties")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("backup mode %v", fi.Mode())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
	merged, err := config.Merge(rem.configSources()...)
	if err != nil {
		t.Fatal(err)
	}
	fromBackup, err := config.Parse(path, data)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := dump(merged), dump(fromBackup); a != b {
		t.Fatalf("backup differs from the merged configuration:\n%s\nvs\n%s", a, b)
	}
	if !strings.Contains(dump(fromBackup), "a.sources.s.totalEvents=4") {
		t.Fatalf("the later URI does not win in the backup:\n%s", data)
	}

	// Unreachable at start, with the backup: started, with a warning.
	srv.setDown(true)
	log, exited := runningAgent(t, "-n", "a", "-u", srv.URL, "-u", second.URL, "-b", dir, "--no-reload-conf")
	waitLog(t, log, "agent started")
	if !strings.Contains(log.String(), "starting from the backup") || !strings.Contains(log.String(), srv.URL) {
		t.Fatalf("no warning:\n%s", log.String())
	}
	if _, done := exited(); done {
		t.Fatal("agent exited")
	}
	// The backup is not overwritten from itself.
	if again, _ := os.ReadFile(path); !bytes.Equal(again, data) {
		t.Fatal("backup rewritten while in use")
	}

	// Without a backup: refused, naming the URI and the remedy.
	code, _, errOut := run(t, "agent", "-n", "a", "-u", srv.URL+"/x", "-b", t.TempDir())
	if code != 1 || !strings.Contains(errOut, srv.URL+"/x") || !strings.Contains(errOut, "503") || !strings.Contains(errOut, "no usable backup") {
		t.Fatalf("%d %s", code, errOut)
	}
	code, _, errOut = run(t, "agent", "-n", "a", "-u", srv.URL+"/x")
	if code != 1 || !strings.Contains(errOut, "-b DIR") {
		t.Fatalf("%d %s", code, errOut)
	}
}

func dump(p *config.Properties) string {
	var b strings.Builder
	for _, k := range p.Keys() {
		v, _ := p.Get(k)
		fmt.Fprintf(&b, "%s=%s\n", k, v.Value)
	}
	return b.String()
}

// TestWriteFileAtomic: a replacement leaves the new content and no
// temporary file; a failed one leaves the old content.
func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ".a.properties")
	for _, text := range []string{"one\n", "two\n"} {
		if err := writeFileAtomic(path, []byte(text)); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(path); string(got) != text {
			t.Fatalf("%q, want %q", got, text)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("left behind: %v", entries)
	}
	// A directory in the way of the rename: the write fails, nothing is
	// left behind and the directory is untouched.
	blocked := filepath.Join(dir, "blocked")
	os.Mkdir(blocked, 0o755)
	writeFile(t, filepath.Join(blocked, "keep"), "kept")
	if err := writeFileAtomic(blocked, []byte("x")); err == nil {
		t.Fatal("rename over a directory succeeded")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Fatalf("left behind: %v", entries)
	}
}

// TestConfURIRefusals: what cannot work here is refused with the reason.
func TestConfURIRefusals(t *testing.T) {
	srv := newConfServer(t, seqConf(1))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-u", "classpath:flume.properties"}, "no Java classpath"},
		{[]string{"-u", "ftp://host/x"}, `unsupported scheme "ftp"`},
		{[]string{"-u", "conf/x.properties"}, "use -f for a file path"},
		{[]string{"-u", "file://conf/x.properties"}, "an absolute path and no host"},
		{[]string{"-u", srv.URL, "-i", "1e-10"}, "not a positive number of seconds"},
		{[]string{"-u", srv.URL, "--conf-provider", "com.example.ZkProvider"}, "--conf-provider \"com.example.ZkProvider\" is not supported"},
		{[]string{"-u", srv.URL, "-a", "com.example.Kerberos"}, "-a \"com.example.Kerberos\" is not supported"},
		{[]string{"-u", "file:///nonexistent/x.properties"}, "reading file:///nonexistent/x.properties"},
	} {
		code, _, errOut := run(t, append([]string{"validate", "-n", "a"}, tc.args...)...)
		if code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: %d %s", tc.args, code, errOut)
		}
	}
	// The defaults are accepted.
	if code, _, errOut := run(t, "validate", "-n", "a", "-u", srv.URL, "--conf-provider", defaultConfProvider, "-a", defaultAuthProvider); code != 0 {
		t.Fatalf("defaults refused: %s", errOut)
	}
	// A password in the URI itself is never printed.
	code, _, errOut := run(t, "validate", "-n", "a", "-u", "http://u:hidden-pw@127.0.0.1:1/x")
	if code == 0 || strings.Contains(errOut, "hidden-pw") || !strings.Contains(errOut, "127.0.0.1:1/x") {
		t.Fatalf("%d %s", code, errOut)
	}
}

// TestPropertyRoundTrip: what the backup writes reads back as the same key
// and value.
func TestPropertyRoundTrip(t *testing.T) {
	for _, kv := range [][2]string{
		{"a.b", "plain value"},
		{"key with spaces", "  leading and trailing  "},
		{"k=:#!", "#not a comment = : !"},
		{"#k", "v"},
		{"!k", ""},
		{"tab\tkey", "line\nbreak\r\f\\ and \x01 and é 日本"},
		{"k", "${env:HOME} \\u0041"},
	} {
		checkRoundTrip(t, kv[0], kv[1])
	}
}

func checkRoundTrip(t *testing.T, key, value string) {
	t.Helper()
	var b bytes.Buffer
	writeProperty(&b, key, value)
	entries, err := config.ParseProperties("backup", b.Bytes())
	if err != nil {
		t.Fatalf("%q: %v", b.String(), err)
	}
	if len(entries) != 1 || entries[0].Key != key || entries[0].Value != value {
		t.Fatalf("%q = %q wrote %q, read %+v", key, value, b.String(), entries)
	}
}

func FuzzPropertyRoundTrip(f *testing.F) {
	f.Add("a.b", " x = y ")
	f.Add("#k", "\\n\n")
	f.Fuzz(func(t *testing.T, key, value string) {
		if key == "" || !utf8Valid(key) || !utf8Valid(value) {
			t.Skip()
		}
		checkRoundTrip(t, key, value)
	})
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }
