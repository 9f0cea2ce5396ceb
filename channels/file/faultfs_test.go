package file

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"sync"
)

// memFS is an in-memory fs that injects faults and simulates crashes, in
// the manner of Pebble's error-injecting vfs. Every file keeps the bytes a
// reader sees and the bytes known to be durable (as of its last successful
// Sync); crash() throws away, per file, a random part of what was never
// synced. Directory operations are durable at once (a simplification: the
// channel fsyncs directories after them anyway).
type memFS struct {
	mu    sync.Mutex
	rng   *rand.Rand
	files map[string]*memNode
	dirs  map[string]bool
	locks map[string]bool
	// Probabilities of an injected error per operation.
	pWrite, pSync, pRename, pTruncate float64
	injected                          int
}

type memNode struct {
	data    []byte
	durable int // length of the durable prefix of data
}

var errInjected = errors.New("injected fault")

func newMemFS(seed uint64) *memFS {
	return &memFS{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		files: map[string]*memNode{}, dirs: map[string]bool{}, locks: map[string]bool{}}
}

func (m *memFS) setFaults(p float64) {
	m.mu.Lock()
	m.pWrite, m.pSync, m.pRename, m.pTruncate = p, p/2, p, p/4
	m.mu.Unlock()
}

// faultLocked decides whether to inject an error with probability p.
func (m *memFS) faultLocked(p float64) bool {
	if p > 0 && m.rng.Float64() < p {
		m.injected++
		return true
	}
	return false
}

// crash keeps, of each file's unsynced bytes, a random prefix.
func (m *memFS) crash() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, n := range m.files {
		if len(n.data) > n.durable {
			keep := n.durable + m.rng.IntN(len(n.data)-n.durable+1)
			n.data = n.data[:keep:keep]
		}
		n.durable = len(n.data)
	}
	m.locks = map[string]bool{}
}

func (m *memFS) OpenFile(name string, flag int, _ os.FileMode) (file, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.dirs[filepath.Dir(name)] {
		return nil, &os.PathError{Op: "open", Path: name, Err: os.ErrNotExist}
	}
	n, ok := m.files[name]
	switch {
	case ok && flag&os.O_EXCL != 0 && flag&os.O_CREATE != 0:
		return nil, &os.PathError{Op: "open", Path: name, Err: os.ErrExist}
	case !ok && flag&os.O_CREATE == 0:
		return nil, &os.PathError{Op: "open", Path: name, Err: os.ErrNotExist}
	case !ok:
		n = &memNode{}
		m.files[name] = n
	}
	if flag&os.O_TRUNC != 0 {
		n.data, n.durable = nil, 0
	}
	return &memFile{fs: m, n: n, name: name}, nil
}

func (m *memFS) Rename(o, nw string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.faultLocked(m.pRename) {
		return fmt.Errorf("rename %s: %w", o, errInjected)
	}
	n, ok := m.files[o]
	if !ok {
		return &os.PathError{Op: "rename", Path: o, Err: os.ErrNotExist}
	}
	delete(m.files, o)
	m.files[nw] = n
	return nil
}

func (m *memFS) Remove(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.files[name]; !ok {
		return &os.PathError{Op: "remove", Path: name, Err: os.ErrNotExist}
	}
	delete(m.files, name)
	return nil
}

func (m *memFS) MkdirAll(dir string, _ os.FileMode) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		m.dirs[d] = true
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

func (m *memFS) ReadDir(dir string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.dirs[filepath.Clean(dir)] {
		return nil, &os.PathError{Op: "readdir", Path: dir, Err: os.ErrNotExist}
	}
	var out []string
	for p := range m.files {
		if filepath.Dir(p) == filepath.Clean(dir) {
			out = append(out, filepath.Base(p))
		}
	}
	sort.Strings(out)
	return out, nil
}

func (m *memFS) SyncDir(string) error { return nil }

func (m *memFS) FreeSpace(string) (uint64, error) { return 1 << 40, nil }

type memLock struct {
	fs   *memFS
	name string
	once sync.Once
}

func (l *memLock) Close() error {
	l.once.Do(func() {
		l.fs.mu.Lock()
		delete(l.fs.locks, l.name)
		l.fs.mu.Unlock()
	})
	return nil
}

func (m *memFS) Lock(name string) (io.Closer, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.locks[name] {
		return nil, fmt.Errorf("directory %s is in use (lock file %s)", filepath.Dir(name), name)
	}
	m.locks[name] = true
	return &memLock{fs: m, name: name}, nil
}

type memFile struct {
	fs     *memFS
	n      *memNode
	name   string
	closed bool
}

func (f *memFile) Write(b []byte) (int, error) {
	m := f.fs
	m.mu.Lock()
	defer m.mu.Unlock()
	if f.closed {
		return 0, os.ErrClosed
	}
	if m.faultLocked(m.pWrite) {
		// A torn write: part of the buffer lands, then the error.
		k := m.rng.IntN(len(b) + 1)
		f.n.data = append(f.n.data, b[:k]...)
		return k, fmt.Errorf("write %s: %w", f.name, errInjected)
	}
	f.n.data = append(f.n.data, b...)
	return len(b), nil
}

func (f *memFile) ReadAt(b []byte, off int64) (int, error) {
	m := f.fs
	m.mu.Lock()
	defer m.mu.Unlock()
	if f.closed {
		return 0, os.ErrClosed
	}
	if off >= int64(len(f.n.data)) {
		return 0, io.EOF
	}
	n := copy(b, f.n.data[off:])
	if n < len(b) {
		return n, io.EOF
	}
	return n, nil
}

func (f *memFile) Sync() error {
	m := f.fs
	m.mu.Lock()
	defer m.mu.Unlock()
	if f.closed {
		return os.ErrClosed
	}
	if m.faultLocked(m.pSync) {
		return fmt.Errorf("fsync %s: %w", f.name, errInjected)
	}
	f.n.durable = len(f.n.data)
	return nil
}

func (f *memFile) Truncate(size int64) error {
	m := f.fs
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.faultLocked(m.pTruncate) {
		return fmt.Errorf("truncate %s: %w", f.name, errInjected)
	}
	if size < int64(len(f.n.data)) {
		f.n.data = f.n.data[:size:size]
	}
	f.n.durable = min(f.n.durable, len(f.n.data))
	return nil
}

func (f *memFile) Size() (int64, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	return int64(len(f.n.data)), nil
}

func (f *memFile) Close() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	f.closed = true
	return nil
}
