package scenario

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"ampsflume/channels/file"
	"ampsflume/flume"
)

// batchSize is the transaction size of the channel scenario.
const batchSize = 1000

func channelCommit() *Scenario {
	return &Scenario{
		Name:     "channel",
		Title:    "Durable channel commit, batch 1000, 100 B events",
		Ours:     "channels/file (fsync per transaction)",
		PeerDesc: "raw append + fsync of the same bodies, same disk",
		Target:   0.8,
		Unit:     "events/s committed",
		Full:     Params{N: 1_000_000},
		Short:    Params{N: 10_000},
		Run:      map[string]Side{Ours: oursChannel, Peer: peerChannel},
	}
}

// channelEvents is one batch of events, bodies from the shared payload.
func channelEvents(batch int64) []*flume.Event {
	evs := make([]*flume.Event, batchSize)
	for i := range evs {
		p := newPayload()
		p.set(batch*batchSize+int64(i), i%4)
		evs[i] = flume.NewEvent(p, nil)
	}
	return evs
}

func oursChannel(ctx context.Context, p Params) (Result, error) {
	if p.N%batchSize != 0 {
		return Result{}, fmt.Errorf("N=%d must be a multiple of %d", p.N, batchSize)
	}
	cfg := file.DefaultConfig()
	cfg.CheckpointDir = filepath.Join(p.Dir, "checkpoint")
	cfg.DataDirs = []string{filepath.Join(p.Dir, "data")}
	cfg.Capacity = p.N + batchSize
	cfg.TransactionCapacity = batchSize
	cfg.CheckpointInterval = 0
	c, err := file.New("bench", cfg, nil)
	if err != nil {
		return Result{}, err
	}
	if err := c.Start(ctx); err != nil {
		return Result{}, err
	}
	defer c.Stop()
	evs := channelEvents(0)
	t := startTimer()
	for b := 0; b < p.N/batchSize; b++ {
		tx := c.NewTransaction()
		if err := tx.Begin(); err != nil {
			return Result{}, err
		}
		for _, e := range evs {
			if err := tx.Put(e); err != nil {
				return Result{}, err
			}
		}
		if err := tx.Commit(); err != nil {
			return Result{}, err
		}
		tx.Close()
	}
	r := t.result(int64(p.N), int64(p.N)*PayloadSize)
	// The receiving side is the channel: it must hold every event.
	return r, expect(int64(c.Size()), int64(p.N), "events in the channel")
}

// peerChannel appends the same bodies, newline-separated, to a file on the
// same disk and fsyncs after each batch: the floor any durable channel pays.
func peerChannel(ctx context.Context, p Params) (Result, error) {
	if p.N%batchSize != 0 {
		return Result{}, fmt.Errorf("N=%d must be a multiple of %d", p.N, batchSize)
	}
	path := filepath.Join(p.Dir, "raw.log")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return Result{}, err
	}
	defer f.Close()
	evs := channelEvents(0)
	buf := make([]byte, 0, batchSize*(PayloadSize+1))
	t := startTimer()
	for b := 0; b < p.N/batchSize; b++ {
		buf = buf[:0]
		for _, e := range evs {
			buf = append(buf, e.Body...)
			buf = append(buf, '\n')
		}
		if _, err := f.Write(buf); err != nil {
			return Result{}, err
		}
		if err := f.Sync(); err != nil {
			return Result{}, err
		}
	}
	r := t.result(int64(p.N), int64(p.N)*PayloadSize)
	st, err := f.Stat()
	if err != nil {
		return Result{}, err
	}
	return r, expect(st.Size(), int64(p.N)*(PayloadSize+1), "bytes in the file")
}
