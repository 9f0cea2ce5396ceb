package fsys

import (
	"context"
	"io/fs"
)

// FS is a file system the sink writes to.
type FS interface {
	// Create makes a new empty file for writing, and any missing parent
	// directories. It fails (matching fs.ErrExist) if name exists.
	Create(ctx context.Context, name string) (File, error)
	// Rename moves a closed file to newname, failing if newname exists.
	Rename(ctx context.Context, oldname, newname string) error
	// Remove deletes a closed file.
	Remove(ctx context.Context, name string) error
	// Walk calls fn for every regular file under root, recursively. A root
	// that does not exist is not an error.
	Walk(ctx context.Context, root string, fn func(name string, size int64) error) error
	// Close releases connections.
	Close() error
}

// File is an open file being written.
type File interface {
	Write(p []byte) (int, error)
	// Flush makes the bytes written so far visible to readers.
	Flush() error
	// Truncate cuts the file back to size bytes.
	Truncate(size int64) error
	Close() error
}

// ErrExist is returned (wrapped) when a name is already taken.
var ErrExist = fs.ErrExist
