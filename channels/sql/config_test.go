package sql

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ampsflume/flume"
)

func TestParseConfig(t *testing.T) {
	home, _ := os.UserHomeDir()
	cases := []struct {
		name string
		kv   map[string]string
		want func(Config) bool
		err  string // substring of the error; "" for none
	}{
		{"defaults", nil, func(c Config) bool {
			return c.Backend == BackendSQLite && c.Path == filepath.Join(home, ".flume", "jdbc-channel", "c1.sqlite") &&
				c.Capacity == 0 && c.TransactionCapacity == DefaultTransactionCapacity && c.KeepAlive == 3*time.Second &&
				c.CreateSchema && c.MaxConnections == DefaultMaxConnections
		}, ""},
		{"derby type is sqlite", map[string]string{"db.type": "derby", "path": "~/x.db"}, func(c Config) bool {
			return c.Backend == BackendSQLite && c.Path == filepath.Join(home, "x.db")
		}, ""},
		{"jdbc sqlite url", map[string]string{"driver.url": "jdbc:sqlite:/var/flume/ch.sqlite"}, func(c Config) bool {
			return c.Backend == BackendSQLite && c.Path == "/var/flume/ch.sqlite"
		}, ""},
		{"jdbc derby url", map[string]string{"driver.url": "jdbc:derby:/var/flume/db;create=true"}, func(c Config) bool {
			return c.Backend == BackendSQLite && c.Path == "/var/flume/db/"+derbyFile
		}, ""},
		{"derby in memory refused", map[string]string{"driver.url": "jdbc:derby:memory:x;create=true"}, nil, "Derby database directory"},
		{"postgres url", map[string]string{"driver.url": "postgres://u:p@db:5432/flume"}, func(c Config) bool {
			return c.Backend == BackendPostgres && c.URL == "postgres://u:p@db:5432/flume"
		}, ""},
		{"jdbc postgresql url with credentials", map[string]string{
			"driver.url": "jdbc:postgresql://db:5433/flume?user=fl&password=s%26cret&sslmode=disable", "db.type": "POSTGRESQL"},
			func(c Config) bool {
				return c.Backend == BackendPostgres && c.URL == "postgres://fl:s&cret@db:5433/flume?sslmode=disable"
			}, ""},
		{"username and password override", map[string]string{
			"driver.url": "postgresql://old:oldpw@db/flume", "db.username": "new", "db.password": "pw"},
			func(c Config) bool { return c.URL == "postgresql://new:pw@db/flume" }, ""},
		{"username keeps url password", map[string]string{
			"driver.url": "postgresql://old:oldpw@db/flume", "db.username": "new"},
			func(c Config) bool { return c.URL == "postgresql://new:oldpw@db/flume" }, ""},
		{"maximum.capacity", map[string]string{"maximum.capacity": "50", "transactionCapacity": "10"}, func(c Config) bool {
			return c.Capacity == 50 && c.TransactionCapacity == 10
		}, ""},
		{"capacity", map[string]string{"capacity": "7", "transactionCapacity": "7"}, func(c Config) bool { return c.Capacity == 7 }, ""},
		{"both capacities", map[string]string{"capacity": "7", "maximum.capacity": "8"}, nil, "keep one"},
		{"transactionCapacity above capacity", map[string]string{"maximum.capacity": "5", "transactionCapacity": "6"}, nil, "larger than capacity"},
		{"negative capacity", map[string]string{"capacity": "-1"}, nil, "must not be negative"},
		{"mysql refused", map[string]string{"db.type": "MYSQL"}, nil, "not supported"},
		{"postgres type without url", map[string]string{"db.type": "postgresql"}, nil, "needs driver.url"},
		{"derby type with postgres url", map[string]string{"db.type": "DERBY", "driver.url": "postgres://db/x"}, nil, "contradicts"},
		{"unknown url", map[string]string{"driver.url": "jdbc:mysql://u:secret@db/x"}, nil, "not supported"},
		{"bad keep-alive", map[string]string{"keep-alive": "soon"}, nil, "keep-alive"},
		{"bad create.schema", map[string]string{"create.schema": "maybe"}, nil, "create.schema"},
		{"zero connections", map[string]string{"maximum.connections": "0"}, nil, "maximum.connections"},
		{"ignored keys", map[string]string{"driver.class": "org.apache.derby.jdbc.EmbeddedDriver", "create.index": "false",
			"transaction.isolation": "SERIALIZABLE", "sysprop.user.home": "/tmp"}, func(c Config) bool { return c.Backend == BackendSQLite }, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := ParseConfig("c1", flume.MapContext(`channel "c1"`, tc.kv))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one containing %q", err, tc.err)
				}
				var ce *flume.ConfigError
				if !errors.As(err, &ce) {
					t.Fatalf("err %T is not a *flume.ConfigError", err)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Fatalf("error shows a password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.want(cfg) {
				t.Fatalf("unexpected config %+v", cfg)
			}
		})
	}
}

func TestSpecDeclaresParsedKeys(t *testing.T) {
	for _, k := range []string{"type", "db.type", "driver.url", "path", "db.username", "db.password", "maximum.capacity",
		"capacity", "transactionCapacity", "keep-alive", "maximum.connections", "create.schema", "driver.class",
		"create.index", "create.foreignkey", "transaction.isolation", "connection.properties.file", "sysprop.user.home"} {
		if !Spec.Accepts(k) {
			t.Errorf("Spec does not declare %q", k)
		}
	}
	for _, typ := range []string{"jdbc", "JDBC", "org.apache.flume.channel.jdbc.JdbcChannel"} {
		r, ok := flume.Lookup(flume.KindChannel, typ)
		if !ok || r.Channel == nil || r.Spec.Alias != "jdbc" {
			t.Errorf("Lookup(%q) = %v, %v", typ, r, ok)
		}
	}
}

func TestFactoryBuildsChannel(t *testing.T) {
	r, _ := flume.Lookup(flume.KindChannel, "jdbc")
	path := filepath.Join(t.TempDir(), "f.sqlite")
	ch, err := r.Channel(flume.ChannelEnv{Name: "c1", Config: flume.MapContext(`channel "c1"`, map[string]string{
		"path": path, "maximum.capacity": "10", "transactionCapacity": "5"})})
	if err != nil {
		t.Fatal(err)
	}
	if ch.Capacity() != 10 || ch.TransactionCapacity() != 5 {
		t.Fatalf("Capacity/TransactionCapacity = %d/%d", ch.Capacity(), ch.TransactionCapacity())
	}
	if _, err := r.Channel(flume.ChannelEnv{Name: "c1", Config: flume.MapContext(`channel "c1"`, map[string]string{
		"transactionCapacity": "0"})}); err == nil {
		t.Fatal("factory accepted transactionCapacity 0")
	}
}
