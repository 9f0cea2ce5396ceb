package fsys

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

var ctx = context.Background()

// memClient is an in-memory namenode with HDFS's rules that matter here:
// create fails on an existing name, truncate works on closed files and may
// report a pending block recovery, append needs a closed file.
type memClient struct {
	mu       sync.Mutex
	files    map[string]*bytes.Buffer
	open     map[string]bool
	pending  int // truncates that report recovery in progress
	recovery map[string]int
}

func newMemClient() *memClient {
	return &memClient{files: map[string]*bytes.Buffer{}, open: map[string]bool{}, recovery: map[string]int{}}
}

type memWriter struct {
	c    *memClient
	name string
}

func (w *memWriter) Write(p []byte) (int, error) {
	w.c.mu.Lock()
	defer w.c.mu.Unlock()
	return w.c.files[w.name].Write(p)
}
func (w *memWriter) Flush() error { return nil }
func (w *memWriter) Close() error {
	w.c.mu.Lock()
	defer w.c.mu.Unlock()
	w.c.open[w.name] = false
	return nil
}

func (c *memClient) Create(name string) (Writer, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.files[name]; ok {
		return nil, &os.PathError{Op: "create", Path: name, Err: os.ErrExist}
	}
	c.files[name], c.open[name] = new(bytes.Buffer), true
	return &memWriter{c, name}, nil
}

func (c *memClient) Append(name string) (Writer, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.files[name]; !ok {
		return nil, os.ErrNotExist
	}
	if c.open[name] || c.recovery[name] > 0 {
		if c.recovery[name] > 0 {
			c.recovery[name]--
		}
		return nil, errors.New("lease held: recovery in progress")
	}
	c.open[name] = true
	return &memWriter{c, name}, nil
}

type info struct {
	name string
	size int64
}

func (i info) Name() string       { return path.Base(i.name) }
func (i info) Size() int64        { return i.size }
func (i info) Mode() fs.FileMode  { return 0o644 }
func (i info) ModTime() time.Time { return time.Time{} }
func (i info) IsDir() bool        { return false }
func (i info) Sys() any           { return nil }

func (c *memClient) Stat(name string) (os.FileInfo, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.files[name]
	if !ok {
		for n := range c.files {
			if strings.HasPrefix(n, name+"/") {
				return dirInfo(name), nil
			}
		}
		return nil, &os.PathError{Op: "stat", Path: name, Err: os.ErrNotExist}
	}
	return info{name, int64(b.Len())}, nil
}

type dirInfo string

func (d dirInfo) Name() string       { return path.Base(string(d)) }
func (d dirInfo) Size() int64        { return 0 }
func (d dirInfo) Mode() fs.FileMode  { return fs.ModeDir | 0o755 }
func (d dirInfo) ModTime() time.Time { return time.Time{} }
func (d dirInfo) IsDir() bool        { return true }
func (d dirInfo) Sys() any           { return nil }

func (c *memClient) Rename(o, n string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.files[n] = c.files[o] // HDFS rename2 with overwrite, as the client sends it
	delete(c.files, o)
	return nil
}

func (c *memClient) Remove(name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.files, name)
	return nil
}

func (c *memClient) MkdirAll(string, os.FileMode) error { return nil }

func (c *memClient) Truncate(name string, size int64) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.open[name] {
		return false, errors.New("truncate of an open file")
	}
	c.files[name].Truncate(int(size))
	if c.pending > 0 {
		c.pending--
		c.recovery[name] = 2
		return false, nil
	}
	return true, nil
}

func (c *memClient) Walk(root string, fn filepath.WalkFunc) error {
	c.mu.Lock()
	var names []string
	for n := range c.files {
		if strings.HasPrefix(n, root+"/") {
			names = append(names, n)
		}
	}
	c.mu.Unlock()
	if len(names) == 0 {
		return fn(root, nil, &os.PathError{Op: "walk", Path: root, Err: os.ErrNotExist})
	}
	sort.Strings(names)
	for _, n := range names {
		fi, _ := c.Stat(n)
		if err := fn(n, fi, nil); err != nil {
			return err
		}
	}
	return nil
}

func (c *memClient) Close() error { return nil }

func (c *memClient) content(name string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.files[name].String()
}

func TestHDFSAdapter(t *testing.T) {
	for _, pending := range []int{0, 1} {
		c := newMemClient()
		c.pending = pending
		h := NewHDFS(c)
		h.RecoveryWait = time.Millisecond
		f, err := h.Create(ctx, "/d/a.tmp")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.Create(ctx, "/d/a.tmp"); !errors.Is(err, fs.ErrExist) {
			t.Fatalf("second create: %v", err)
		}
		mustWrite(t, f, "committed|")
		mustWrite(t, f, "failed batch")
		if err := f.Truncate(int64(len("committed|"))); err != nil {
			t.Fatalf("pending=%d: truncate: %v", pending, err)
		}
		mustWrite(t, f, "retry")
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		if got := c.content("/d/a.tmp"); got != "committed|retry" {
			t.Fatalf("content %q", got)
		}
		if _, err := h.Create(ctx, "/d/b"); err != nil {
			t.Fatal(err)
		}
		if err := h.Rename(ctx, "/d/a.tmp", "/d/b"); !errors.Is(err, fs.ErrExist) {
			t.Fatalf("rename over an existing file: %v", err)
		}
		if err := h.Rename(ctx, "/d/a.tmp", "/d/a"); err != nil {
			t.Fatal(err)
		}
		var seen []string
		if err := h.Walk(ctx, "/d", func(n string, _ int64) error { seen = append(seen, n); return nil }); err != nil {
			t.Fatal(err)
		}
		if strings.Join(seen, ",") != "/d/a,/d/b" {
			t.Fatalf("walk %v", seen)
		}
		if err := h.Walk(ctx, "/nothing", func(string, int64) error { t.Fatal("called"); return nil }); err != nil {
			t.Fatalf("walk of a missing root: %v", err)
		}
	}
}

func TestHDFSTruncateGivesUp(t *testing.T) {
	c := newMemClient()
	c.pending = 1
	h := NewHDFS(c)
	h.RecoveryWait, h.RecoveryTries = time.Millisecond, 1
	f, err := h.Create(ctx, "/x")
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, f, "abc")
	if err := f.Truncate(1); err == nil {
		t.Fatal("truncate succeeded while recovery never finished")
	}
	if _, err := f.Write([]byte("x")); err == nil {
		t.Fatal("write after a failed reopen succeeded")
	}
}

func mustWrite(t *testing.T, f File, s string) {
	t.Helper()
	if _, err := f.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
}

func TestLocal(t *testing.T) {
	dir := t.TempDir()
	var l Local
	f, err := l.Create(ctx, filepath.Join(dir, "sub", "a.tmp"))
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, f, "keep|drop")
	if err := f.Truncate(5); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, f, "more")
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Create(ctx, filepath.Join(dir, "sub", "a.tmp")); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("create over an existing file: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sub", "b"), []byte("other"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := l.Rename(ctx, filepath.Join(dir, "sub", "a.tmp"), filepath.Join(dir, "sub", "b")); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("rename over an existing file: %v", err)
	}
	if err := l.Rename(ctx, filepath.Join(dir, "sub", "a.tmp"), filepath.Join(dir, "sub", "a")); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "sub", "a"))
	if string(b) != "keep|more" {
		t.Fatalf("content %q", b)
	}
	var seen []string
	if err := l.Walk(ctx, dir, func(n string, _ int64) error { seen = append(seen, filepath.Base(n)); return nil }); err != nil {
		t.Fatal(err)
	}
	if strings.Join(seen, ",") != "a,b" {
		t.Fatalf("walk %v", seen)
	}
	if err := l.Walk(ctx, filepath.Join(dir, "missing"), func(string, int64) error { return nil }); err != nil {
		t.Fatal(err)
	}
}
