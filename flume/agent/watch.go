package agent

import (
	"context"
	"os"
	"time"
)

// Watcher detects changes of configuration files by their modification time
// and size (Flume's polling provider compares lastModified).
type Watcher struct {
	paths []string
	last  []stamp
}

type stamp struct {
	mod  time.Time
	size int64
	ok   bool
}

// NewWatcher records the current state of paths.
func NewWatcher(paths ...string) *Watcher {
	w := &Watcher{paths: paths}
	w.last = w.read()
	return w
}

func (w *Watcher) read() []stamp {
	out := make([]stamp, len(w.paths))
	for i, p := range w.paths {
		if fi, err := os.Stat(p); err == nil {
			out[i] = stamp{fi.ModTime(), fi.Size(), true}
		}
	}
	return out
}

// Changed reports whether any file differs from the previous call (or from
// NewWatcher). A file that disappears is not a change (an editor may be
// replacing it); its reappearance is.
func (w *Watcher) Changed() bool {
	now := w.read()
	changed := false
	for i := range now {
		if now[i].ok && (!w.last[i].ok || !now[i].mod.Equal(w.last[i].mod) || now[i].size != w.last[i].size) {
			changed = true
		}
	}
	w.last = now
	return changed
}

// Run polls every interval and calls onChange (from this goroutine) after
// each change, until ctx is done. Flume polls every 30 s.
func (w *Watcher) Run(ctx context.Context, interval time.Duration, onChange func()) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if w.Changed() {
			onChange()
		}
	}
}
