package fsys

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Local is the local disk.
type Local struct{}

// Create opens name with O_EXCL, so an existing file is never clobbered, and
// O_APPEND, so writes after a Truncate continue from the new end.
func (Local) Create(_ context.Context, name string) (File, error) {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	return localFile{f}, nil
}

// Rename links the file under its new name and then removes the old one: a
// hard link fails if the target exists, which os.Rename would replace. File
// systems without hard links fall back to a checked rename.
func (Local) Rename(_ context.Context, oldname, newname string) error {
	err := os.Link(oldname, newname)
	if err == nil {
		return os.Remove(oldname)
	}
	if errors.Is(err, fs.ErrExist) {
		return err
	}
	if _, serr := os.Lstat(newname); serr == nil {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: fs.ErrExist}
	}
	return os.Rename(oldname, newname)
}

// Remove deletes name.
func (Local) Remove(_ context.Context, name string) error { return os.Remove(name) }

// Walk lists regular files under root.
func (Local) Walk(ctx context.Context, root string, fn func(string, int64) error) error {
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == root && errors.Is(err, fs.ErrNotExist) {
				return filepath.SkipAll
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return fn(p, info.Size())
	})
	if err != nil {
		return fmt.Errorf("listing %s: %w", root, err)
	}
	return nil
}

// Close does nothing.
func (Local) Close() error { return nil }

type localFile struct{ *os.File }

// Flush does nothing: a write(2) is visible to readers once it returns, which
// is what HDFS's hflush promises too. Neither is an fsync.
func (localFile) Flush() error { return nil }
