package file

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"ampsflume/flume"
)

// benchConfig is testConfig for benchmarks: real directories on the disk of
// the temporary directory, real fsyncs, a capacity that never binds.
func benchConfig(b *testing.B) Config {
	dir := b.TempDir()
	cfg := DefaultConfig()
	cfg.CheckpointDir = filepath.Join(dir, "checkpoint")
	cfg.DataDirs = []string{filepath.Join(dir, "data")}
	cfg.Capacity, cfg.TransactionCapacity = 1<<30, 10000
	cfg.CheckpointInterval = 0
	cfg.MinimumRequiredSpace = minimumRequiredSpaceFloor
	return cfg
}

func benchEvents(batch, size int) []*flume.Event {
	evs := make([]*flume.Event, batch)
	for i := range evs {
		body := make([]byte, size)
		for j := range body {
			body[j] = byte('a' + (i+j)%26)
		}
		evs[i] = flume.NewEvent(body, nil)
	}
	return evs
}

// BenchmarkCommit measures put+commit of one batch per iteration next to a
// raw loop that appends the same bytes to a file and fsyncs once per batch,
// on the same disk: the ratio of the two is the channel's overhead. Run one
// after the other, the two see a shared disk at different moments;
// BenchmarkCommitVsRaw interleaves them for a ratio that can be trusted.
func BenchmarkCommit(b *testing.B) {
	for _, batch := range []int{100, 1000} {
		for _, size := range []int{100, 1024} {
			evs := benchEvents(batch, size)
			var recBytes int
			for _, e := range evs {
				recBytes += len(appendPut(nil, 1, e))
			}
			recBytes += len(appendMarker(nil, recCommit, 1))
			b.Run(fmt.Sprintf("batch=%d/size=%d/channel", batch, size), func(b *testing.B) {
				c, err := New("bench", benchConfig(b), nil)
				if err != nil {
					b.Fatal(err)
				}
				if err := c.Start(context.Background()); err != nil {
					b.Fatal(err)
				}
				defer c.Stop()
				b.SetBytes(int64(recBytes))
				b.ResetTimer()
				for range b.N {
					tx := c.NewTransaction()
					if err := tx.Begin(); err != nil {
						b.Fatal(err)
					}
					for _, e := range evs {
						if err := tx.Put(e); err != nil {
							b.Fatal(err)
						}
					}
					if err := tx.Commit(); err != nil {
						b.Fatal(err)
					}
					tx.Close()
				}
				b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "events/s")
			})
			b.Run(fmt.Sprintf("batch=%d/size=%d/raw", batch, size), func(b *testing.B) {
				f, err := os.OpenFile(filepath.Join(b.TempDir(), "raw"), os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
				if err != nil {
					b.Fatal(err)
				}
				defer f.Close()
				// The same record bytes the channel writes.
				var buf []byte
				for _, e := range evs {
					buf = appendPut(buf, 1, e)
				}
				buf = appendMarker(buf, recCommit, 1)
				b.SetBytes(int64(recBytes))
				b.ResetTimer()
				for range b.N {
					if _, err := f.Write(buf); err != nil {
						b.Fatal(err)
					}
					if err := f.Sync(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "events/s")
			})
		}
	}
}

// BenchmarkCommitParallel shows group commit: concurrent committers of
// batches of 100 share fsyncs.
func BenchmarkCommitParallel(b *testing.B) {
	evs := benchEvents(100, 100)
	c, err := New("bench", benchConfig(b), nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer c.Stop()
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			tx := c.NewTransaction()
			if err := tx.Begin(); err != nil {
				b.Error(err)
				return
			}
			for _, e := range evs {
				if err := tx.Put(e); err != nil {
					b.Error(err)
					return
				}
			}
			if err := tx.Commit(); err != nil {
				b.Error(err)
				return
			}
			tx.Close()
		}
	})
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkReplay1M measures Start on a channel holding one million
// 100-byte events, from a checkpoint and (with the checkpoint removed) by
// replaying the whole log.
func BenchmarkReplay1M(b *testing.B) {
	const events, batch = 1000000, 1000
	cfg := benchConfig(b)
	c, err := New("bench", cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	evs := benchEvents(batch, 100)
	for range events / batch {
		tx := c.NewTransaction()
		_ = tx.Begin()
		for _, e := range evs {
			if err := tx.Put(e); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
		tx.Close()
	}
	if err := c.Stop(); err != nil {
		b.Fatal(err)
	}
	ckpt := filepath.Join(cfg.CheckpointDir, ckptName)
	saved, err := os.ReadFile(ckpt)
	if err != nil {
		b.Fatal(err)
	}
	for _, mode := range []string{"checkpoint", "full"} {
		b.Run(mode, func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				if mode == "full" {
					_ = os.Remove(ckpt)
				} else if err := os.WriteFile(ckpt, saved, 0o644); err != nil {
					b.Fatal(err)
				}
				c, err := New("bench", cfg, nil)
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if err := c.Start(context.Background()); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if c.Size() != events {
					b.Fatalf("replayed %d events", c.Size())
				}
				// Leave the directories as they were: no new checkpoint.
				c.abandon()
				b.StartTimer()
			}
		})
	}
}

// BenchmarkCommitVsRaw is BenchmarkCommit with the channel and the raw loop
// interleaved: every iteration commits one batch through the channel and
// appends and fsyncs the same bytes in the raw file, alternating which goes
// first. A shared disk's throughput drifts by a factor of two within
// seconds, so only measurements taken side by side give a ratio that means
// something. It reports both times per batch and ratio = raw time / channel
// time (the channel's throughput as a fraction of the disk's raw limit).
func BenchmarkCommitVsRaw(b *testing.B) {
	for _, size := range []int{100, 1024} {
		const batch = 1000
		b.Run(fmt.Sprintf("batch=%d/size=%d", batch, size), func(b *testing.B) {
			evs := benchEvents(batch, size)
			c, err := New("bench", benchConfig(b), nil)
			if err != nil {
				b.Fatal(err)
			}
			if err := c.Start(context.Background()); err != nil {
				b.Fatal(err)
			}
			defer c.Stop()
			f, err := os.OpenFile(filepath.Join(b.TempDir(), "raw"), os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			var buf []byte
			for _, e := range evs {
				buf = appendPut(buf, 1, e)
			}
			buf = appendMarker(buf, recCommit, 1)
			channel := func() {
				tx := c.NewTransaction()
				if err := tx.Begin(); err != nil {
					b.Fatal(err)
				}
				for _, e := range evs {
					if err := tx.Put(e); err != nil {
						b.Fatal(err)
					}
				}
				if err := tx.Commit(); err != nil {
					b.Fatal(err)
				}
				tx.Close()
			}
			raw := func() {
				if _, err := f.Write(buf); err != nil {
					b.Fatal(err)
				}
				if err := f.Sync(); err != nil {
					b.Fatal(err)
				}
			}
			var chT, rawT time.Duration
			b.SetBytes(int64(len(buf)))
			b.ResetTimer()
			for i := range b.N {
				t0 := time.Now()
				if i%2 == 0 {
					channel()
					t1 := time.Now()
					raw()
					chT, rawT = chT+t1.Sub(t0), rawT+time.Since(t1)
				} else {
					raw()
					t1 := time.Now()
					channel()
					rawT, chT = rawT+t1.Sub(t0), chT+time.Since(t1)
				}
			}
			b.ReportMetric(float64(chT.Nanoseconds())/float64(b.N), "channel-ns/batch")
			b.ReportMetric(float64(rawT.Nanoseconds())/float64(b.N), "raw-ns/batch")
			b.ReportMetric(rawT.Seconds()/chT.Seconds(), "ratio")
		})
	}
}

// BenchmarkPut measures the CPU cost of staging a put (encoding, checksum,
// capacity and free-space accounting) without the write: batches of 1000
// rolled back.
func BenchmarkPut(b *testing.B) {
	for _, size := range []int{100, 1024} {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			evs := benchEvents(1000, size)
			c, err := New("bench", benchConfig(b), nil)
			if err != nil {
				b.Fatal(err)
			}
			if err := c.Start(context.Background()); err != nil {
				b.Fatal(err)
			}
			defer c.Stop()
			b.SetBytes(int64(size))
			b.ResetTimer()
			for i := 0; i < b.N; i += len(evs) {
				tx := c.NewTransaction()
				if err := tx.Begin(); err != nil {
					b.Fatal(err)
				}
				for _, e := range evs[:min(len(evs), b.N-i)] {
					if err := tx.Put(e); err != nil {
						b.Fatal(err)
					}
				}
				if err := tx.Rollback(); err != nil {
					b.Fatal(err)
				}
				tx.Close()
			}
		})
	}
}
