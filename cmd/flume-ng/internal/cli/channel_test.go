package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ampsflume/channels/file"
	"ampsflume/flume"
)

// fileChannel writes n events into a file channel in dir and stops it; it
// returns the config and the segment file.
func fileChannel(t *testing.T, dir string, n int) (file.Config, string) {
	t.Helper()
	cfg := file.DefaultConfig()
	cfg.CheckpointDir = filepath.Join(dir, "checkpoint")
	cfg.DataDirs = []string{filepath.Join(dir, "data")}
	c, err := file.New("c", cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		tx := c.NewTransaction()
		if err := tx.Begin(); err != nil {
			t.Fatal(err)
		}
		if err := tx.Put(&flume.Event{Body: []byte(strings.Repeat("x", 100) + string(rune('a'+i)))}); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		tx.Close()
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	segs, err := filepath.Glob(filepath.Join(cfg.DataDirs[0], "log-*"))
	if err != nil || len(segs) != 1 {
		t.Fatalf("segments %v, %v", segs, err)
	}
	return cfg, segs[0]
}

func TestChannelVerifyRepair(t *testing.T) {
	dir := t.TempDir()
	cfg, seg := fileChannel(t, dir, 5)
	dirArgs := []string{"-c", cfg.CheckpointDir, "-d", cfg.DataDirs[0]}

	code, out, errOut := run(t, append([]string{"channel", "verify"}, dirArgs...)...)
	if code != 0 || !strings.HasSuffix(out, "ok\n") || !strings.Contains(out, "checkpoint: ok") {
		t.Fatalf("sound channel: exit %d\n%s%s", code, out, errOut)
	}

	// Damage the middle of the log: a byte inside the first record.
	b, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	b[60] ^= 0xff
	if err := os.WriteFile(seg, b, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ = run(t, append([]string{"channel", "verify"}, dirArgs...)...)
	if code != 1 || !strings.Contains(out, "corrupt: "+seg) || !strings.Contains(out, "flume-ng channel repair") {
		t.Fatalf("damaged channel: exit %d\n%s", code, out)
	}
	code, out, errOut = run(t, append([]string{"channel", "repair"}, dirArgs...)...)
	if code != 0 || !strings.Contains(out, "cut "+seg) && !strings.Contains(out, "removed "+seg) {
		t.Fatalf("repair: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, _ = run(t, append([]string{"channel", "verify"}, dirArgs...)...); code != 0 {
		t.Fatalf("after repair: exit %d\n%s", code, out)
	}

	// The same channel named through a configuration file.
	conf := filepath.Join(dir, "agent.properties")
	text := "a.channels = fc other\na.channels.fc.type = file\na.channels.fc.checkpointDir = " + cfg.CheckpointDir +
		"\na.channels.fc.dataDirs = " + cfg.DataDirs[0] + "\na.channels.other.type = clichan\na.channels.other.path = x\n"
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := run(t, "channel", "verify", "-f", conf, "-n", "a", "--channel", "fc"); code != 0 || !strings.Contains(out, "checkpointDir "+cfg.CheckpointDir) {
		t.Fatalf("from config: exit %d\n%s%s", code, out, errOut)
	}

	// A running channel holds its directories.
	c, err := file.New("c", cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Stop() })
	if code, _, errOut := run(t, append([]string{"channel", "repair"}, dirArgs...)...); code != 1 || errOut == "" {
		t.Fatalf("repair of a running channel: exit %d %q", code, errOut)
	}

	tests := []struct {
		args []string
		want string
	}{
		{[]string{"channel", "verify", "-c", cfg.CheckpointDir}, "-d <dataDirs>"},
		{[]string{"channel", "verify", "-f", conf, "-n", "a", "--channel", "other"}, "not a file channel"},
		{[]string{"channel", "verify", "-f", conf, "-n", "a", "--channel", "fcc"}, `did you mean "fc"`},
		{[]string{"channel", "verify", "-f", conf, "-n", "a"}, "--channel NAME"},
		{[]string{"channel", "verify", "-f", conf, "-n", "a", "--channel", "fc", "-c", "x"}, "not both"},
		{[]string{"channel", "verify", "--bogus"}, "unknown option"},
		{[]string{"channel", "fix"}, "use verify or repair"},
	}
	for _, tc := range tests {
		code, _, errOut := run(t, tc.args...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, %q lacks %q", tc.args, code, errOut, tc.want)
		}
	}
	if code, out, _ := run(t, "channel", "--help"); code != 0 || !strings.Contains(out, "--checkpointDir") {
		t.Errorf("channel --help: %d %s", code, out)
	}
}
