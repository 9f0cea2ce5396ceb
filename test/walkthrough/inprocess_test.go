package walkthrough

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"ampsflume/examples/amps-orders/walkthrough"
	"ampsflume/internal/childproc"
)

// TestWalkthroughInProcess runs what `go run ./examples/amps-orders` runs,
// with its defaults (rate 1, conflation as configured, OS-chosen ports),
// on the real clock.
func TestWalkthroughInProcess(t *testing.T) {
	t.Parallel()
	// Locked buffers: Run's components log from their own goroutines.
	var progress, logs childproc.Output
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := walkthrough.Run(ctx, walkthrough.Options{
		Files:    os.DirFS(exampleDir),
		OutDir:   t.TempDir(),
		Progress: &progress,
		Logger:   slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatalf("Run: %v\nprogress:\n%s\nlogs:\n%s", err, progress.String(), logs.String())
	}
	if !res.Match {
		t.Fatalf("output differs:\n%s\nprogress:\n%s\nlogs:\n%s", res.Diff(), progress.String(), logs.String())
	}
	if res.Published != 15 {
		t.Errorf("published %d messages, want 15", res.Published)
	}
	if len(res.Lines) != 10 {
		t.Errorf("saw %d lines land, want 10", len(res.Lines))
	}
	if !strings.Contains(progress.String(), "output matches expected-output.jsonl") {
		t.Errorf("progress does not report the match:\n%s", progress.String())
	}
}
