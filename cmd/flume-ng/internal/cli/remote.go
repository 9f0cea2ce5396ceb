package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"ampsflume/flume/config"
)

// maxRemoteConfig bounds what one URI may return, so that a misdirected URI
// (a log file, a binary) fails clearly instead of exhausting memory.
const maxRemoteConfig = 16 << 20

// The only values --conf-provider and -a accept: Flume 1.10's defaults, so
// that command lines written for Java Flume keep working. Other providers
// are Java classes that cannot exist here.
const (
	defaultConfProvider = "org.apache.flume.node.UriConfigurationProvider"
	defaultAuthProvider = "org.apache.flume.node.net.BasicAuthorizationProvider"
)

// uriSource is one --conf-uri: where it is, what was last fetched from it and
// the validators that let the server answer 304 Not Modified.
type uriSource struct {
	raw  string
	u    *url.URL
	name string // the URI without any password, for messages and locations

	data     []byte
	fetched  bool
	etag     string
	modified string
}

// remote holds the --conf-uri sources of an agent. It is used from one
// goroutine at a time: the start-up code, then the watch loop.
type remote struct {
	sources  []*uriSource
	client   *http.Client
	user     string
	password string
	backup   string // the backup file (-b DIR), "" without one
	// fromBackup is set while the URIs' part of the configuration is the
	// backup file's content because a URI could not be fetched at start.
	fromBackup []byte
	log        *slog.Logger
}

// newRemote checks the URIs and the options that go with them.
func newRemote(o *options, log *slog.Logger) (*remote, error) {
	if o.confProvider != "" && o.confProvider != defaultConfProvider {
		return nil, fmt.Errorf("--conf-provider %q is not supported: configuration providers are Java classes; only %s (the default) is accepted", o.confProvider, defaultConfProvider)
	}
	if o.authProvider != "" && o.authProvider != defaultAuthProvider {
		return nil, fmt.Errorf("-a %q is not supported: authorization providers are Java classes; only %s (HTTP basic authentication with --conf-user/--conf-password, the default) is accepted", o.authProvider, defaultAuthProvider)
	}
	if (o.confUser == "") != (o.confPassword == "") {
		return nil, errors.New("--conf-user and --conf-password go together: give both or neither")
	}
	r := &remote{
		client:   &http.Client{Timeout: 30 * time.Second},
		user:     o.confUser,
		password: o.confPassword,
		log:      log,
	}
	if o.backupDir != "" {
		r.backup = filepath.Join(o.backupDir, "."+o.name+".properties")
	}
	for _, raw := range o.uris {
		u, err := url.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("--conf-uri %q: %w", raw, err)
		}
		switch strings.ToLower(u.Scheme) {
		case "http", "https":
		case "file":
			// file://conf/a.properties reads as host "conf": say so rather
			// than look for /a.properties.
			if u.Path == "" || (u.Host != "" && u.Host != "localhost") {
				return nil, fmt.Errorf("--conf-uri %q: a file URI needs an absolute path and no host (file:///etc/flume/agent.properties)", raw)
			}
		case "classpath":
			return nil, fmt.Errorf("--conf-uri %q: classpath URIs are not supported: there is no Java classpath; use file:///path or -f FILE", raw)
		case "":
			return nil, fmt.Errorf("--conf-uri %q: not a URI; use -f for a file path, or file:///path", raw)
		default:
			return nil, fmt.Errorf("--conf-uri %q: unsupported scheme %q: use http, https or file", raw, u.Scheme)
		}
		r.sources = append(r.sources, &uriSource{raw: raw, u: u, name: u.Redacted()})
	}
	if r.user != "" && !r.hasHTTP() {
		log.Warn("--conf-user and --conf-password are only sent to http(s) URIs; there is none")
	}
	return r, nil
}

func (r *remote) hasHTTP() bool {
	for _, s := range r.sources {
		if s.u.Scheme != "file" {
			return true
		}
	}
	return false
}

// fetched is the outcome of one fetch of one URI.
type fetched struct {
	src      *uriSource
	data     []byte
	etag     string
	modified string
	changed  bool
}

// fetch reads one URI. An HTTP source is asked conditionally once it has been
// fetched, so an unchanged configuration costs a 304 and no parsing.
func (r *remote) fetch(ctx context.Context, s *uriSource) (fetched, error) {
	f := fetched{src: s, data: s.data, etag: s.etag, modified: s.modified}
	if s.u.Scheme == "file" {
		data, err := os.ReadFile(s.u.Path)
		if err != nil {
			return f, fmt.Errorf("reading %s: %w", s.name, err)
		}
		f.data, f.changed = data, !s.fetched || !bytes.Equal(data, s.data)
		return f, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.u.String(), nil)
	if err != nil {
		return f, fmt.Errorf("fetching %s: %w", s.name, err)
	}
	if r.user != "" {
		req.SetBasicAuth(r.user, r.password)
	}
	if s.fetched {
		if s.etag != "" {
			req.Header.Set("If-None-Match", s.etag)
		}
		if s.modified != "" {
			req.Header.Set("If-Modified-Since", s.modified)
		}
	}
	resp, err := r.client.Do(req)
	if err != nil {
		// The client's error repeats the URL, password included if the URI
		// carries one: report the redacted name and the cause only.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return f, fmt.Errorf("fetching %s: %w", s.name, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified && s.fetched:
		return f, nil
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		hint := "pass --conf-user and --conf-password"
		if r.user != "" {
			hint = fmt.Sprintf("check --conf-user %q and --conf-password", r.user)
		}
		return f, fmt.Errorf("fetching %s: %s: the server refused the credentials; %s", s.name, resp.Status, hint)
	case resp.StatusCode != http.StatusOK:
		return f, fmt.Errorf("fetching %s: %s", s.name, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxRemoteConfig+1))
	if err != nil {
		return f, fmt.Errorf("fetching %s: %w", s.name, err)
	}
	if len(data) > maxRemoteConfig {
		return f, fmt.Errorf("fetching %s: more than %d bytes: not a configuration", s.name, maxRemoteConfig)
	}
	f.data, f.etag, f.modified = data, resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	// A server without validators answers 200 every time: compare the
	// content so that only a real change reloads.
	f.changed = !s.fetched || !bytes.Equal(data, s.data)
	return f, nil
}

// refresh fetches every URI. It changes nothing unless all of them answer,
// so that a change seen on one URI while another is unreachable is seen
// again (and applied) on a later round. It reports whether any content
// changed, or whether the configuration came from the backup until now.
func (r *remote) refresh(ctx context.Context) (changed bool, err error) {
	results := make([]fetched, 0, len(r.sources))
	var errs []error
	for _, s := range r.sources {
		f, err := r.fetch(ctx, s)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		results = append(results, f)
	}
	if len(errs) > 0 {
		return false, errors.Join(errs...)
	}
	changed = r.fromBackup != nil
	for _, f := range results {
		s := f.src
		s.data, s.etag, s.modified, s.fetched = f.data, f.etag, f.modified, true
		changed = changed || f.changed
	}
	r.fromBackup = nil
	return changed, nil
}

// start fetches every URI once. When one is unreachable and a backup exists,
// the backup stands in for all the URIs (it is the last configuration they
// gave together) with a warning; without a backup start-up fails.
func (r *remote) start(ctx context.Context) error {
	_, err := r.refresh(ctx)
	if err == nil {
		return nil
	}
	if r.backup == "" {
		return fmt.Errorf("%w (-b DIR keeps a copy of the last configuration fetched, for this case)", err)
	}
	data, rerr := os.ReadFile(r.backup)
	if rerr != nil {
		return fmt.Errorf("%w; no usable backup: %v", err, rerr)
	}
	r.log.Warn("configuration URI unreachable; starting from the backup of the last configuration fetched", "err", err, "backup", r.backup)
	r.fromBackup = data
	return nil
}

// configSources returns the URIs' part of the configuration, in order: their
// content, or the backup standing in for them.
func (r *remote) configSources() []config.Source {
	if r == nil {
		return nil
	}
	if r.fromBackup != nil {
		return []config.Source{{Name: r.backup, Data: r.fromBackup}}
	}
	out := make([]config.Source, 0, len(r.sources))
	for _, s := range r.sources {
		out = append(out, config.Source{Name: s.name, Data: s.data})
	}
	return out
}

// saveBackup writes the URIs' merged configuration to the backup file
// (Flume's `.<agent>.properties` in the -b directory), atomically: a crash
// leaves the old backup or the new one, never a torn file. The file holds
// the merged keys, not the raw texts, so reading it back gives the same
// configuration without repeated-key warnings.
func (r *remote) saveBackup() error {
	if r == nil || r.backup == "" || r.fromBackup != nil {
		return nil
	}
	props, err := config.Merge(r.configSources()...)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	names := make([]string, len(r.sources))
	for i, s := range r.sources {
		names[i] = s.name
	}
	fmt.Fprintf(&b, "# Merged from %s at %s.\n", strings.Join(names, ", "), time.Now().UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "# Used when a configuration URI is unreachable at start; rewritten after each fetch.\n")
	for _, k := range props.Keys() {
		p, _ := props.Get(k)
		writeProperty(&b, k, p.Value)
	}
	return writeFileAtomic(r.backup, b.Bytes())
}

// writeFileAtomic replaces path with data through a synced temporary file in
// the same directory and a rename. The mode is 0600: the configuration may
// hold credentials.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("backup directory: %w", err)
	}
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("writing backup: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename, there is nothing left to remove
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing backup: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("writing backup: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing backup: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing backup: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		// The rename is durable once the directory is synced.
		d.Sync()
		d.Close()
	}
	return nil
}

// writeProperty writes one key = value line in the .properties syntax, with
// the escapes that make config.ParseProperties read back the same key and
// value.
func writeProperty(b *bytes.Buffer, key, value string) {
	escapeProperty(b, key, true)
	b.WriteString(" = ")
	escapeProperty(b, value, false)
	b.WriteByte('\n')
}

func escapeProperty(b *bytes.Buffer, s string, isKey bool) {
	for i, c := range s {
		switch c {
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\f':
			b.WriteString(`\f`)
		case ' ':
			// Blanks end a key, and lead a value only when escaped.
			if isKey || i == 0 {
				b.WriteString(`\ `)
			} else {
				b.WriteByte(' ')
			}
		case '=', ':':
			if isKey {
				b.WriteByte('\\')
			}
			b.WriteRune(c)
		case '#', '!':
			// Only a comment at the start of a line; escaping it in a key is
			// harmless and keeps the rule simple.
			if isKey && i == 0 {
				b.WriteByte('\\')
			}
			b.WriteRune(c)
		default:
			if c < 0x20 || c == 0x7f {
				fmt.Fprintf(b, `\u%04x`, c)
			} else {
				b.WriteRune(c)
			}
		}
	}
}
