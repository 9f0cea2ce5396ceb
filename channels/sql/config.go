package sql

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"ampsflume/flume"
)

// Defaults.
const (
	// DefaultCapacity 0 means unlimited, as Flume's maximum.capacity.
	DefaultCapacity            = 0
	DefaultTransactionCapacity = 10000
	DefaultKeepAlive           = 3 * time.Second
	DefaultMaxConnections      = 10

	// derbyFile is the SQLite file created inside a Derby database directory
	// named by a jdbc:derby: URL.
	derbyFile = "jdbc-channel.sqlite"
)

// Backend names.
const (
	BackendSQLite   = "sqlite"
	BackendPostgres = "postgres"
)

// Spec declares the channel's type names and keys.
var Spec = flume.Spec{
	Alias: "jdbc",
	Class: "org.apache.flume.channel.jdbc.JdbcChannel",
	Doc: "Durable channel keeping its events in a relational table: an embedded SQLite file by default " +
		"(standing in for Flume's embedded Derby), or PostgreSQL when driver.url is a postgres:// or " +
		"jdbc:postgresql:// URL. Events survive a crash once committed; takes are final at commit.",
	Keys: []flume.Key{
		{Name: "type", Type: "string", Required: true, Doc: "jdbc or org.apache.flume.channel.jdbc.JdbcChannel"},
		{Name: "db.type", Type: "string", Default: "DERBY",
			Doc: "DERBY or SQLITE for the embedded SQLite file, POSTGRESQL for a server; other databases are refused. " +
				"May be left out when driver.url names the database."},
		{Name: "driver.url", Type: "string", Default: "SQLite file at path",
			Doc: "postgres://user@host:port/db, jdbc:postgresql://host:port/db, jdbc:sqlite:<file>, " +
				"or jdbc:derby:<dir>[;...] (the SQLite file " + derbyFile + " in that directory)."},
		{Name: "path", Type: "string", Default: "~/.flume/jdbc-channel/<channel>.sqlite",
			Doc: "SQLite database file when driver.url is not set; its directory is created if missing."},
		{Name: "db.username", Type: "string", Doc: "PostgreSQL user, overriding the one in driver.url; ignored for SQLite."},
		{Name: "db.password", Type: "string", Doc: "PostgreSQL password, overriding the one in driver.url; ignored for SQLite."},
		{Name: "maximum.capacity", Type: "int", Default: "0",
			Doc: "Flume's name for capacity: the maximum number of events held, 0 for unlimited."},
		{Name: "capacity", Type: "int", Default: "0",
			Doc: "Maximum number of events held, counting those taken by open transactions; 0 for unlimited. Same as maximum.capacity; set only one."},
		{Name: "transactionCapacity", Type: "int", Default: strconv.Itoa(DefaultTransactionCapacity),
			Doc: "Maximum number of events one transaction may put or take; must not exceed a non-zero capacity."},
		{Name: "keep-alive", Type: "duration(s)", Default: "3",
			Doc: "Seconds a take waits for an event, and a commit waits for room, before giving up."},
		{Name: "maximum.connections", Type: "int", Default: strconv.Itoa(DefaultMaxConnections),
			Doc: "PostgreSQL connection pool size; each open transaction that has taken events holds one. SQLite uses one connection."},
		{Name: "create.schema", Type: "bool", Default: "true",
			Doc: "Create the tables when missing; when false a missing table is an error."},
		{Name: "driver.class", Type: "string", Doc: "Accepted for compatibility; ignored (the driver follows from driver.url)."},
		{Name: "create.index", Type: "bool", Default: "true", Doc: "Accepted for compatibility; ignored (the primary key is the only index needed)."},
		{Name: "create.foreignkey", Type: "bool", Default: "true", Doc: "Accepted for compatibility; ignored (headers are stored with their event)."},
		{Name: "transaction.isolation", Type: "string", Default: "READ_COMMITTED", Doc: "Accepted for compatibility; ignored (the channel relies on row locks, not on the isolation level)."},
		{Name: "connection.properties.file", Type: "string", Doc: "Accepted for compatibility; ignored: put connection parameters in driver.url."},
		{Name: "sysprop.", Type: "string", Doc: "Java system properties; accepted for compatibility and ignored."},
	},
}

// Config is the channel's configuration.
type Config struct {
	// Backend is BackendSQLite or BackendPostgres.
	Backend string
	// Path is the SQLite file.
	Path string
	// URL is the PostgreSQL connection URL, user and password included.
	URL string
	// Capacity bounds the events held, counting those taken by open
	// transactions; 0 is unlimited.
	Capacity            int
	TransactionCapacity int
	KeepAlive           time.Duration
	// MaxConnections bounds the PostgreSQL pool.
	MaxConnections int
	// CreateSchema creates missing tables.
	CreateSchema bool
	// PollInterval is how often a waiting take or commit looks at a
	// PostgreSQL table that other processes may change; 0 means 100 ms.
	// In-process commits wake waiters at once.
	PollInterval time.Duration
}

// DefaultConfig returns the defaults for a channel named name: an SQLite file
// under ~/.flume/jdbc-channel.
func DefaultConfig(name string) Config {
	home, err := os.UserHomeDir()
	if err != nil {
		home = "."
	}
	return Config{
		Backend:             BackendSQLite,
		Path:                filepath.Join(home, ".flume", "jdbc-channel", name+".sqlite"),
		Capacity:            DefaultCapacity,
		TransactionCapacity: DefaultTransactionCapacity,
		KeepAlive:           DefaultKeepAlive,
		MaxConnections:      DefaultMaxConnections,
		CreateSchema:        true,
	}
}

func expandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[1:])
		}
	}
	return p
}

// ParseConfig reads the keys of the channel named name. Every invalid key
// is reported (joined), not only the first.
func ParseConfig(name string, ctx *flume.Context) (Config, error) {
	cfg := DefaultConfig(name)
	var errs flume.ConfigErrors
	var err error

	dbType := strings.ToUpper(strings.TrimSpace(ctx.String("db.type", "")))
	switch dbType {
	case "", "DERBY", "SQLITE":
	case "POSTGRES", "POSTGRESQL":
	default:
		errs.Add(ctx.Errorf("db.type", "%q is not supported: use DERBY or SQLITE (embedded SQLite) or POSTGRESQL", dbType))
		dbType = "" // checked; the URL alone decides the backend below
	}
	if p := strings.TrimSpace(ctx.String("path", "")); p != "" {
		cfg.Path = expandHome(p)
	}
	urlOK := true
	if raw := strings.TrimSpace(ctx.String("driver.url", "")); raw != "" {
		backend, target, err := parseURL(raw)
		if err != nil {
			urlOK = false
			errs.Add(ctx.Errorf("driver.url", "%v", err))
		} else {
			cfg.Backend = backend
			if backend == BackendSQLite {
				cfg.Path = target
			} else {
				cfg.URL = target
			}
		}
	}
	switch {
	case !urlOK:
	case (dbType == "POSTGRES" || dbType == "POSTGRESQL") && cfg.Backend != BackendPostgres:
		errs.Add(ctx.Errorf("db.type", "%s needs driver.url set to a postgres:// or jdbc:postgresql:// URL", dbType))
	case (dbType == "DERBY" || dbType == "SQLITE") && cfg.Backend != BackendSQLite:
		errs.Add(ctx.Errorf("db.type", "%s contradicts driver.url, which names a PostgreSQL server: remove db.type or set it to POSTGRESQL", dbType))
	}
	if cfg.Backend == BackendPostgres && (ctx.Has("db.username") || ctx.Has("db.password")) {
		if u, err := url.Parse(cfg.URL); err != nil {
			errs.Add(ctx.Errorf("driver.url", "%v", err))
		} else {
			user := ctx.String("db.username", u.User.Username())
			if pw, ok := ctx.Lookup("db.password"); ok {
				u.User = url.UserPassword(user, pw.Value)
			} else if pw, ok := u.User.Password(); ok {
				u.User = url.UserPassword(user, pw)
			} else {
				u.User = url.User(user)
			}
			cfg.URL = u.String()
		}
	}

	if ctx.Has("capacity") && ctx.Has("maximum.capacity") {
		errs.Add(ctx.Errorf("capacity", "both capacity and maximum.capacity are set: keep one"))
	}
	capKey := "capacity"
	if ctx.Has("maximum.capacity") {
		capKey = "maximum.capacity"
	}
	unparsed := map[string]bool{}
	cfg.Capacity, err = ctx.Int(capKey, cfg.Capacity)
	unparsed["capacity"] = errs.Add(err)
	cfg.TransactionCapacity, err = ctx.Int("transactionCapacity", cfg.TransactionCapacity)
	unparsed["transactionCapacity"] = errs.Add(err)
	cfg.KeepAlive, err = ctx.Duration("keep-alive", cfg.KeepAlive, time.Second)
	errs.Add(err)
	cfg.MaxConnections, err = ctx.Int("maximum.connections", cfg.MaxConnections)
	errs.Add(err)
	cfg.CreateSchema, err = ctx.Bool("create.schema", cfg.CreateSchema)
	errs.Add(err)
	for _, e := range cfg.check(func(key, format string, args ...any) error {
		if key == "capacity" {
			key = capKey
		}
		return ctx.Errorf(key, format, args...)
	}, unparsed) {
		errs.Add(e)
	}
	return cfg, errs.Err()
}

// parseURL maps a JDBC or PostgreSQL URL to a backend and its target: a file
// path for SQLite, a postgres:// URL for PostgreSQL.
func parseURL(raw string) (backend, target string, err error) {
	lower := strings.ToLower(raw)
	switch {
	case strings.HasPrefix(lower, "postgres://"), strings.HasPrefix(lower, "postgresql://"):
		if _, err := url.Parse(raw); err != nil {
			return "", "", fmt.Errorf("not a valid URL: %v", err)
		}
		return BackendPostgres, raw, nil
	case strings.HasPrefix(lower, "jdbc:postgresql://"):
		u, err := url.Parse(raw[len("jdbc:"):])
		if err != nil {
			return "", "", fmt.Errorf("not a valid URL: %v", err)
		}
		// JDBC passes the credentials as query parameters.
		q := u.Query()
		if user := q.Get("user"); user != "" {
			if pw, ok := q["password"]; ok {
				u.User = url.UserPassword(user, pw[0])
			} else {
				u.User = url.User(user)
			}
			q.Del("user")
			q.Del("password")
		}
		u.RawQuery = q.Encode()
		u.Scheme = "postgres"
		return BackendPostgres, u.String(), nil
	case strings.HasPrefix(lower, "jdbc:sqlite:"):
		p := raw[len("jdbc:sqlite:"):]
		if p == "" {
			return "", "", fmt.Errorf("%q names no file", raw)
		}
		return BackendSQLite, expandHome(p), nil
	case strings.HasPrefix(lower, "jdbc:derby:"):
		dir, _, _ := strings.Cut(raw[len("jdbc:derby:"):], ";")
		if dir == "" || strings.HasPrefix(strings.ToLower(dir), "memory:") {
			return "", "", fmt.Errorf("%q: only a Derby database directory can be mapped (to an SQLite file in it)", raw)
		}
		return BackendSQLite, filepath.Join(expandHome(dir), derbyFile), nil
	}
	return "", "", fmt.Errorf("%q is not supported: use postgres://..., jdbc:postgresql://..., jdbc:sqlite:<file> or jdbc:derby:<dir>", redact(raw))
}

// redact hides a password in a URL for messages.
func redact(raw string) string {
	prefix, rest := "", raw
	if strings.HasPrefix(strings.ToLower(raw), "jdbc:") {
		prefix, rest = raw[:5], raw[5:]
	}
	if u, err := url.Parse(rest); err == nil && u.User != nil {
		return prefix + u.Redacted()
	}
	if strings.Contains(rest, "@") {
		// Unparsable but may hold credentials: show only the scheme.
		scheme, _, _ := strings.Cut(rest, ":")
		return prefix + scheme + ":..."
	}
	return raw
}

// Validate checks the configuration's values and reports every problem.
func (c Config) Validate() error {
	return errors.Join(c.check(func(key, format string, args ...any) error {
		return fmt.Errorf("jdbc channel: key %q: %s", key, fmt.Sprintf(format, args...))
	}, nil)...)
}

// check returns a problem per bad value. Keys in unparsed hold a default
// because what was written is not a number: the comparison of capacities
// is skipped rather than reporting the default.
func (c Config) check(errorf func(key, format string, args ...any) error, unparsed map[string]bool) []error {
	var errs []error
	add := func(key, format string, args ...any) { errs = append(errs, errorf(key, format, args...)) }
	switch {
	case c.Backend != BackendSQLite && c.Backend != BackendPostgres:
		add("db.type", "backend %q is neither %q nor %q", c.Backend, BackendSQLite, BackendPostgres)
	case c.Backend == BackendSQLite && c.Path == "":
		add("path", "is empty: name the SQLite file")
	case c.Backend == BackendPostgres && c.URL == "":
		add("driver.url", "is empty: name the PostgreSQL server")
	}
	if c.Capacity < 0 {
		add("capacity", "%d: must not be negative (0 means unlimited)", c.Capacity)
	}
	if c.TransactionCapacity < 1 {
		add("transactionCapacity", "%d: must be at least 1", c.TransactionCapacity)
	} else if c.Capacity > 0 && c.TransactionCapacity > c.Capacity && !unparsed["capacity"] && !unparsed["transactionCapacity"] {
		add("transactionCapacity", "%d is larger than capacity %d: lower it or raise capacity",
			c.TransactionCapacity, c.Capacity)
	}
	if c.KeepAlive < 0 {
		add("keep-alive", "must not be negative")
	}
	if c.MaxConnections < 1 {
		add("maximum.connections", "%d: must be at least 1", c.MaxConnections)
	}
	if c.PollInterval < 0 {
		add("pollInterval", "must not be negative")
	}
	return errs
}
