package file

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// fs is the narrow filesystem the channel uses. The production
// implementation is the operating system; tests substitute one that injects
// errors, tears writes and simulates crashes.
type fs interface {
	// OpenFile opens name. Files the channel writes are opened with
	// O_APPEND, so every Write appends at the current end.
	OpenFile(name string, flag int, perm os.FileMode) (file, error)
	Rename(oldpath, newpath string) error
	Remove(name string) error
	MkdirAll(dir string, perm os.FileMode) error
	// ReadDir lists the names in dir.
	ReadDir(dir string) ([]string, error)
	// SyncDir makes creations, renames and removals in dir durable.
	SyncDir(dir string) error
	// Lock takes the exclusive lock file name, writing the owner's pid into
	// it. It fails with an error naming the holder when another process (or
	// another channel in this process) holds it.
	Lock(name string) (io.Closer, error)
	// FreeSpace returns the bytes available to unprivileged users on the
	// filesystem holding dir.
	FreeSpace(dir string) (uint64, error)
}

type file interface {
	io.Writer
	io.ReaderAt
	io.Closer
	Sync() error
	Truncate(size int64) error
	Size() (int64, error)
}

// osFS is the real filesystem.
type osFS struct{}

type osFile struct{ *os.File }

func (f osFile) Size() (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

func (osFS) OpenFile(name string, flag int, perm os.FileMode) (file, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

func (osFS) Rename(o, n string) error               { return os.Rename(o, n) }
func (osFS) Remove(name string) error               { return os.Remove(name) }
func (osFS) MkdirAll(d string, p os.FileMode) error { return os.MkdirAll(d, p) }

func (osFS) ReadDir(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(ents))
	for i, e := range ents {
		names[i] = e.Name()
	}
	return names, nil
}

func (osFS) SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return err
	}
	return nil
}

func (osFS) FreeSpace(dir string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, fmt.Errorf("statfs %s: %w", dir, err)
	}
	return st.Bavail * uint64(st.Bsize), nil
}

// Lock uses flock(2): the lock disappears with the process, so a crashed
// agent never leaves a stale lock behind, and the pid written into the file
// lets the error name the process that holds it.
func (osFS) Lock(name string) (io.Closer, error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder := "another process"
		if b, rerr := os.ReadFile(name); rerr == nil {
			if pid, perr := strconv.Atoi(strings.TrimSpace(string(b))); perr == nil {
				holder = "process " + strconv.Itoa(pid)
				if pid == os.Getpid() {
					holder += " (this agent: another channel uses the same directory)"
				}
			}
		}
		f.Close()
		return nil, fmt.Errorf("directory %s is in use by %s (lock file %s): give each file channel its own checkpointDir and dataDirs",
			filepath.Dir(name), holder, name)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}
