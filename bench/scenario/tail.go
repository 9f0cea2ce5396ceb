package scenario

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"
)

// tailer follows a file that a pipeline appends lines to, the way `tail -f`
// does, and checks every line: the payload in full, sequence numbers
// consecutive from 0. With latency on, it records for each line the time
// from the timestamp in the payload to the moment the line was read.
type tailer struct {
	path    func() (string, bool) // the file, once it exists
	want    int64
	latency bool

	lines atomic.Int64
	c     *counter
	lat   []time.Duration
	done  chan error
}

func newTailer(path func() (string, bool), want int64, latency bool) *tailer {
	return &tailer{path: path, want: want, latency: latency, c: newCounter(-1, 1), done: make(chan error, 1)}
}

// fixedPath is a file known in advance.
func fixedPath(p string) func() (string, bool) {
	return func() (string, bool) {
		_, err := os.Stat(p)
		return p, err == nil
	}
}

// onlyFileIn is the single file a sink creates in dir.
func onlyFileIn(dir string) func() (string, bool) {
	return func() (string, bool) {
		m, _ := filepath.Glob(filepath.Join(dir, "*"))
		if len(m) != 1 {
			return "", false
		}
		return m[0], true
	}
}

// run tails until want lines were read or ctx ends; the result is on done.
func (t *tailer) run(ctx context.Context) {
	t.done <- t.follow(ctx)
}

func (t *tailer) follow(ctx context.Context) error {
	const idle = 200 * time.Microsecond
	var f *os.File
	for f == nil {
		if p, ok := t.path(); ok {
			var err error
			if f, err = os.Open(p); err != nil {
				return err
			}
			break
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		time.Sleep(idle)
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	var partial []byte
	for t.lines.Load() < t.want {
		n, err := f.Read(buf)
		if n == 0 {
			if err != nil && !errors.Is(err, io.EOF) {
				return err
			}
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("%w after %d of %d lines", err, t.lines.Load(), t.want)
			}
			time.Sleep(idle)
			continue
		}
		now := time.Now().UnixNano()
		data := buf[:n]
		if len(partial) > 0 {
			data = append(partial, data...)
			partial = partial[:0]
		}
		lines := int64(0)
		for {
			i := indexNL(data)
			if i < 0 {
				break
			}
			line := data[:i]
			data = data[i+1:]
			t.c.add(line)
			if t.latency {
				if ts, ok := tsOf(line); ok {
					t.lat = append(t.lat, time.Duration(now-ts))
				}
			}
			lines++
		}
		partial = append(partial[:0], data...)
		t.lines.Add(lines)
		if t.c.invalid != nil {
			return t.c.invalid
		}
	}
	if len(partial) > 0 {
		return fmt.Errorf("%d bytes after the last expected line", len(partial))
	}
	return nil
}

func indexNL(b []byte) int { return bytes.IndexByte(b, '\n') }

// wait returns the tailer's verdict once it has finished.
func (t *tailer) wait(ctx context.Context, d time.Duration) error {
	select {
	case err := <-t.done:
		if err != nil {
			return err
		}
	case <-time.After(d):
		return fmt.Errorf("timed out: %d of %d lines in the file", t.lines.Load(), t.want)
	}
	if err := expect(t.c.n, t.want, "lines"); err != nil {
		return err
	}
	return nil
}
