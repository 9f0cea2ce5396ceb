package file

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"ampsflume/flume"
)

func TestRegistered(t *testing.T) {
	for _, name := range []string{"file", "FILE", "org.apache.flume.channel.file.FileChannel"} {
		r, ok := flume.Lookup(flume.KindChannel, name)
		if !ok || r.Channel == nil {
			t.Fatalf("%s not registered", name)
		}
	}
	for _, k := range []string{"checkpointDir", "dataDirs", "capacity", "transactionCapacity", "checkpointInterval",
		"maxFileSize", "minimumRequiredSpace", "keep-alive", "useDualCheckpoints", "backupCheckpointDir",
		"checkpointOnClose", "fsyncPerTransaction", "fsyncInterval"} {
		if !Spec.Accepts(k) {
			t.Errorf("Spec does not declare %q", k)
		}
	}
}

func TestParseConfig(t *testing.T) {
	home, _ := os.UserHomeDir()
	for _, tc := range []struct {
		name    string
		kv      map[string]string
		check   func(Config) bool
		wantErr string
	}{
		{"defaults", nil, func(c Config) bool {
			return c.Capacity == 1000000 && c.TransactionCapacity == 10000 && c.MaxFileSize == 2146435071 &&
				c.MinimumRequiredSpace == 524288000 && c.CheckpointInterval.Milliseconds() == 30000 &&
				c.KeepAlive.Seconds() == 3 && c.CheckpointOnClose && c.FsyncPerTransaction &&
				c.CheckpointDir == filepath.Join(home, ".flume/file-channel/checkpoint") &&
				c.DataDirs[0] == filepath.Join(home, ".flume/file-channel/data")
		}, ""},
		{"dirs", map[string]string{"checkpointDir": "~/ck", "dataDirs": "/a, /b,,/c"}, func(c Config) bool {
			return c.CheckpointDir == filepath.Join(home, "ck") && strings.Join(c.DataDirs, ";") == "/a;/b;/c"
		}, ""},
		{"min space floor", map[string]string{"minimumRequiredSpace": "10"}, func(c Config) bool {
			return c.MinimumRequiredSpace == 1<<20
		}, ""},
		{"tx above capacity", map[string]string{"capacity": "10", "transactionCapacity": "11"}, nil, "transactionCapacity"},
		{"bad int", map[string]string{"capacity": "lots"}, nil, "capacity"},
		{"file size above cap", map[string]string{"maxFileSize": "2146435072"}, nil, "maxFileSize"},
		{"dual without dir", map[string]string{"useDualCheckpoints": "true"}, nil, "backupCheckpointDir"},
		{"dual same dir", map[string]string{"useDualCheckpoints": "true", "checkpointDir": "/x", "backupCheckpointDir": "/x/"}, nil, "differ"},
		{"empty dataDirs", map[string]string{"dataDirs": " , "}, nil, "dataDirs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := ParseConfig(flume.MapContext(`channel "c1"`, tc.kv))
			if tc.wantErr != "" {
				var ce *flume.ConfigError
				if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want a ConfigError about %s", err, tc.wantErr)
				}
				return
			}
			requireNoError(t, err)
			if !tc.check(cfg) {
				t.Fatalf("unexpected config %+v", cfg)
			}
		})
	}
}

func TestLockFile(t *testing.T) {
	cfg := testConfig(t)
	c := mustStart(t, cfg)
	defer mustStop(t, c)
	c2, err := New("c2", cfg, nil)
	requireNoError(t, err)
	err = c2.Start(context.Background())
	if err == nil {
		c2.Stop()
		t.Fatal("a second channel opened the same directories")
	}
	pid := strconv.Itoa(os.Getpid())
	if !strings.Contains(err.Error(), "process "+pid) || !strings.Contains(err.Error(), lockName) {
		t.Fatalf("error %q does not name the holder %s and the lock file", err, pid)
	}
	b, err := os.ReadFile(filepath.Join(cfg.CheckpointDir, lockName))
	requireNoError(t, err)
	if strings.TrimSpace(string(b)) != pid {
		t.Fatalf("lock file holds %q, want %s", b, pid)
	}
	// Verify refuses to run on directories in use.
	if _, err := Verify(Dirs{CheckpointDir: cfg.CheckpointDir, DataDirs: cfg.DataDirs}); err == nil {
		t.Fatal("Verify ran on directories in use")
	}
	// A data directory shared with another channel is caught too.
	other := testConfig(t)
	other.DataDirs = cfg.DataDirs
	c3, err := New("c3", other, nil)
	requireNoError(t, err)
	if err := c3.Start(context.Background()); err == nil {
		c3.Stop()
		t.Fatal("a second channel opened the same data directory")
	}
}

func TestDiskFullBackPressure(t *testing.T) {
	cfg := testConfig(t)
	var free atomic.Int64
	free.Store(1 << 30)
	cfg.MinimumRequiredSpace = 100 << 20
	cfg.FreeSpace = func(string) (uint64, error) { return uint64(free.Load()), nil }
	c := mustStart(t, cfg)
	defer mustStop(t, c)
	putBatch(t, c, seq("a", 0, 10)...)

	free.Store(50 << 20) // below minimumRequiredSpace
	err := tryPut(c, "lost?")
	requireIs(t, err, flume.ErrChannelFull)
	if !strings.Contains(err.Error(), "usable space") {
		t.Fatalf("error %q does not say why", err)
	}
	var ce *flume.ChannelError
	if !errors.As(err, &ce) || ce.Op != "put" {
		t.Fatalf("error %T %v is not a put ChannelError", err, err)
	}
	// Takes still work while the disk is full: sinks drain the channel.
	requireEqual(t, "drain while full", takeBatch(t, c, 4, true), seq("a", 0, 4))

	free.Store(1 << 30) // space returns
	putBatch(t, c, "b0")
	requireEqual(t, "after recovery", drainAll(t, c), append(seq("a", 4, 10), "b0"))
	if c.counter.EventPutError.Load() != 1 {
		t.Fatalf("EventPutError = %d, want 1", c.counter.EventPutError.Load())
	}
}

func TestExtraMetrics(t *testing.T) {
	cfg := testConfig(t)
	c, err := New("c1", cfg, nil)
	requireNoError(t, err)
	get := func(name string) float64 {
		for _, m := range c.ExtraMetrics() {
			if m.Name == name {
				return m.Value
			}
		}
		t.Fatalf("metric %s missing", name)
		return 0
	}
	if get("Open") != 0 {
		t.Fatal("Open before Start")
	}
	requireNoError(t, c.Start(context.Background()))
	if get("Open") != 1 || get("Unhealthy") != 0 {
		t.Fatal("Open/Unhealthy wrong after Start")
	}
	c.fail(errors.New("boom"))
	if get("Unhealthy") != 1 {
		t.Fatal("Unhealthy not set")
	}
	if err := tryPut(c, "x"); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("put on a failed channel: %v", err)
	}
	mustStop(t, c)
	if get("Open") != 0 {
		t.Fatal("Open after Stop")
	}
}

// TestSegmentDeletion checks that consumed segments go away after a
// checkpoint and referenced ones stay.
func TestSegmentDeletion(t *testing.T) {
	cfg := testConfig(t)
	cfg.MaxFileSize = minMaxFileSize
	cfg.DataDirs = append(cfg.DataDirs, cfg.DataDirs[0]+"2")
	c := mustStart(t, cfg)
	big := strings.Repeat("y", 1000)
	for i := range 20 {
		putBatch(t, c, big+itoa(i))
	}
	n := len(segmentFiles(t, cfg))
	if n < 5 {
		t.Fatalf("only %d segments", n)
	}
	for _, d := range cfg.DataDirs {
		ents, _ := os.ReadDir(d)
		if len(ents) < 2 {
			t.Fatalf("data directory %s unused", d)
		}
	}
	got := takeBatch(t, c, 19, true)
	if len(got) != 19 {
		t.Fatalf("took %d", len(got))
	}
	requireNoError(t, c.checkpoint())
	left := len(segmentFiles(t, cfg))
	if left > 3 {
		t.Fatalf("%d segments left after consuming all but one event", left)
	}
	mustStop(t, c)
	c = mustStart(t, cfg)
	defer mustStop(t, c)
	requireEqual(t, "last", drainAll(t, c), []string{big + "19"})
}

func TestDualCheckpoints(t *testing.T) {
	cfg := testConfig(t)
	cfg.UseDualCheckpoints = true
	cfg.BackupCheckpointDir = cfg.CheckpointDir + "-backup"
	c := mustStart(t, cfg)
	putBatch(t, c, "a", "b", "c")
	takeBatch(t, c, 1, true)
	mustStop(t, c)
	// Damage the main checkpoint: the backup takes over.
	p := filepath.Join(cfg.CheckpointDir, ckptName)
	flipByte(t, p, 20)
	c = mustStart(t, cfg)
	requireEqual(t, "from backup", drainAll(t, c), []string{"b", "c"})
	mustStop(t, c)
}

func TestBadCheckpointFullReplay(t *testing.T) {
	cfg := testConfig(t)
	c := mustStart(t, cfg)
	putBatch(t, c, "a", "b", "c")
	takeBatch(t, c, 1, true)
	c.abandon()
	requireNoError(t, os.WriteFile(filepath.Join(cfg.CheckpointDir, ckptName), []byte("garbage"), 0o644))
	c = mustStart(t, cfg)
	defer mustStop(t, c)
	requireEqual(t, "full replay", drainAll(t, c), []string{"b", "c"})
}

func TestLargeEventRejected(t *testing.T) {
	cfg := testConfig(t)
	cfg.MaxFileSize = minMaxFileSize
	c := mustStart(t, cfg)
	defer mustStop(t, c)
	if err := tryPut(c, strings.Repeat("z", minMaxFileSize)); err == nil || !strings.Contains(err.Error(), "maxFileSize") {
		t.Fatalf("oversized event: %v", err)
	}
	putBatch(t, c, "ok")
	requireEqual(t, "left", drainAll(t, c), []string{"ok"})
}

func TestFsyncInterval(t *testing.T) {
	cfg := testConfig(t)
	cfg.FsyncPerTransaction = false
	c := mustStart(t, cfg)
	putBatch(t, c, "a", "b")
	mustStop(t, c) // Stop syncs
	c = mustStart(t, cfg)
	defer mustStop(t, c)
	requireEqual(t, "after stop", drainAll(t, c), []string{"a", "b"})
}
