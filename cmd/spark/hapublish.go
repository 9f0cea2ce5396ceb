package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"ampsflume/amps"
)

// haPublishFlags are the publish flags for failover: several servers
// (-server a:1,b:2) and a publish store.
func haPublishFlags(fs *flag.FlagSet, o *opts) {
	fs.StringVar(&o.pubStore, "publishstore", "", "file publish store: unacknowledged messages survive a restart (implies failover mode)")
	fs.StringVar(&o.name, "clientname", "", "client name (default spark-<host>-<pid>; give a fixed one with -publishstore)")
}

// highAvailability reports whether publish runs in failover mode: more
// than one server, or a publish store.
func (o *opts) highAvailability() bool {
	return strings.Contains(o.server, ",") || o.pubStore != ""
}

func (o *opts) clientName() string {
	if o.name != "" {
		return o.name
	}
	host, _ := os.Hostname()
	return fmt.Sprintf("spark-%s-%d", host, os.Getpid())
}

// runHAPublish publishes through an HA client with a publish store: it
// fails over between the servers, re-sends what was not persisted, and
// returns once every message is persisted.
func runHAPublish(ctx context.Context, e *env, o *opts) error {
	in, err := openInput(e, o.file)
	if err != nil {
		return err
	}
	defer in.Close()
	var uris []string
	for _, srv := range strings.Split(o.server, ",") {
		one := *o
		one.server = strings.TrimSpace(srv)
		u, err := one.uri()
		if err != nil {
			return err
		}
		uris = append(uris, u)
	}
	var store amps.PublishStore = amps.NewMemoryPublishStore()
	if o.pubStore != "" {
		fs, err := amps.OpenFilePublishStore(o.pubStore)
		if err != nil {
			return err
		}
		store = fs
	}
	defer store.Close()
	logger := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	h := amps.NewHAClient(o.clientName(), amps.NewDefaultServerChooser(uris...), []amps.HAOption{
		amps.WithPublishStore(store), amps.WithHALogger(logger),
		amps.WithDelayStrategy(&amps.ExponentialDelay{Initial: 50 * time.Millisecond, Max: time.Second, Factor: 2, Jitter: 20 * time.Millisecond}),
	})
	h.Start(ctx)
	defer h.Close()
	publish := h.Publish
	if o.delta {
		publish = h.DeltaPublish
	}
	start := time.Now()
	p := newPacer(o.rate, time.Now, sleepCtx)
	n := 0
	err = messages(in, byte(o.delimiter), func(msg []byte) error {
		if err := p.wait(ctx, n); err != nil {
			return err
		}
		if err := publish(o.topic, msg); err != nil {
			return err
		}
		n++
		return nil
	})
	if err != nil {
		return err
	}
	if err := h.WaitPersisted(ctx); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "total messages published: %d (%s/s)\n", n, rateString(n, time.Since(start)))
	return nil
}
