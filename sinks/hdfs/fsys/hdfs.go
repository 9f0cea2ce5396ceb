package fsys

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/user"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/colinmarc/hdfs/v2"
	"github.com/colinmarc/hdfs/v2/hadoopconf"
)

// HDFSConfig says how to reach a namenode.
type HDFSConfig struct {
	// Address is host:port of the namenode (several, comma-separated, for
	// an HA pair). Empty takes the namenodes from the Hadoop configuration
	// at HADOOP_CONF_DIR or HADOOP_HOME.
	Address string
	// User is the HDFS user; empty takes HADOOP_USER_NAME, then the user
	// running the agent.
	User string
	// DialTimeout bounds each connection attempt to a namenode or datanode.
	DialTimeout time.Duration
}

// DialHDFS connects to the namenode.
func DialHDFS(cfg HDFSConfig) (*HDFS, error) {
	conf, err := hadoopconf.LoadFromEnvironment()
	if err != nil {
		return nil, fmt.Errorf("hdfs: loading the Hadoop configuration: %w", err)
	}
	opts := hdfs.ClientOptionsFromConf(conf)
	if cfg.Address != "" {
		opts.Addresses = strings.Split(cfg.Address, ",")
	}
	if len(opts.Addresses) == 0 {
		return nil, errors.New("hdfs: no namenode address: put host:port in the hdfs:// URL or set HADOOP_CONF_DIR")
	}
	opts.User = cfg.User
	if opts.User == "" {
		opts.User = os.Getenv("HADOOP_USER_NAME")
	}
	if opts.User == "" {
		u, err := user.Current()
		if err != nil {
			return nil, fmt.Errorf("hdfs: no user: set HADOOP_USER_NAME: %w", err)
		}
		opts.User = u.Username
	}
	if cfg.DialTimeout > 0 {
		d := &net.Dialer{Timeout: cfg.DialTimeout}
		opts.NamenodeDialFunc = d.DialContext
		opts.DatanodeDialFunc = d.DialContext
	}
	c, err := hdfs.NewClient(opts)
	if err != nil {
		return nil, fmt.Errorf("hdfs: connecting to %s: %w", strings.Join(opts.Addresses, ","), err)
	}
	return NewHDFS(realClient{c}), nil
}

// Client is the part of an HDFS client the adapter uses; the real one wraps
// github.com/colinmarc/hdfs/v2, tests give a fake.
type Client interface {
	Create(name string) (Writer, error)
	Append(name string) (Writer, error)
	Stat(name string) (os.FileInfo, error)
	Rename(oldname, newname string) error
	Remove(name string) error
	MkdirAll(dir string, perm os.FileMode) error
	// Truncate cuts a closed file; false means the namenode is still
	// recovering its last block and the file cannot be appended to yet.
	Truncate(name string, size int64) (bool, error)
	Walk(root string, fn filepath.WalkFunc) error
	Close() error
}

// Writer is an HDFS output stream; Flush is hflush.
type Writer interface {
	Write(p []byte) (int, error)
	Flush() error
	Close() error
}

type realClient struct{ c *hdfs.Client }

func (r realClient) Create(name string) (Writer, error)           { return r.c.Create(name) }
func (r realClient) Append(name string) (Writer, error)           { return r.c.Append(name) }
func (r realClient) Stat(name string) (os.FileInfo, error)        { return r.c.Stat(name) }
func (r realClient) Rename(o, n string) error                     { return r.c.Rename(o, n) }
func (r realClient) Remove(name string) error                     { return r.c.Remove(name) }
func (r realClient) MkdirAll(d string, p os.FileMode) error       { return r.c.MkdirAll(d, p) }
func (r realClient) Truncate(n string, s int64) (bool, error)     { return r.c.Truncate(n, s) }
func (r realClient) Walk(root string, fn filepath.WalkFunc) error { return r.c.Walk(root, fn) }
func (r realClient) Close() error                                 { return r.c.Close() }

// HDFS is an FS over an HDFS client.
type HDFS struct {
	c Client
	// RecoveryWait and RecoveryTries bound the wait for the namenode to
	// finish recovering a truncated file's last block.
	RecoveryWait  time.Duration
	RecoveryTries int
}

// NewHDFS returns the FS over c.
func NewHDFS(c Client) *HDFS {
	return &HDFS{c: c, RecoveryWait: 500 * time.Millisecond, RecoveryTries: 60}
}

// Create makes a new file; the HDFS create call fails on an existing name.
func (h *HDFS) Create(_ context.Context, name string) (File, error) {
	if err := h.c.MkdirAll(path.Dir(name), 0o755); err != nil {
		return nil, fmt.Errorf("hdfs: mkdir %s: %w", path.Dir(name), err)
	}
	w, err := h.c.Create(name)
	if err != nil {
		return nil, fmt.Errorf("hdfs: create %s: %w", name, err)
	}
	return &hdfsFile{h: h, name: name, w: w}, nil
}

// Rename checks the target first because the HDFS rename the client issues
// overwrites. The check and the rename are not atomic; the sink's names are
// unique per writer, so a race needs two agents writing the same names.
func (h *HDFS) Rename(_ context.Context, oldname, newname string) error {
	if _, err := h.c.Stat(newname); err == nil {
		return fmt.Errorf("hdfs: rename %s to %s: %w", oldname, newname, fs.ErrExist)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("hdfs: stat %s: %w", newname, err)
	}
	if err := h.c.Rename(oldname, newname); err != nil {
		return fmt.Errorf("hdfs: rename %s to %s: %w", oldname, newname, err)
	}
	return nil
}

// Remove deletes a file.
func (h *HDFS) Remove(_ context.Context, name string) error {
	if err := h.c.Remove(name); err != nil {
		return fmt.Errorf("hdfs: remove %s: %w", name, err)
	}
	return nil
}

// Walk lists the files under root.
func (h *HDFS) Walk(ctx context.Context, root string, fn func(string, int64) error) error {
	if _, err := h.c.Stat(root); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	err := h.c.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		return fn(p, info.Size())
	})
	if err != nil {
		return fmt.Errorf("hdfs: listing %s: %w", root, err)
	}
	return nil
}

// Close closes the client.
func (h *HDFS) Close() error { return h.c.Close() }

type hdfsFile struct {
	h    *HDFS
	name string
	w    Writer // nil after a failed reopen
}

func (f *hdfsFile) Write(p []byte) (int, error) {
	if f.w == nil {
		return 0, fmt.Errorf("hdfs: %s: not open after a failed truncate", f.name)
	}
	return f.w.Write(p)
}

func (f *hdfsFile) Flush() error {
	if f.w == nil {
		return fmt.Errorf("hdfs: %s: not open after a failed truncate", f.name)
	}
	return f.w.Flush()
}

// Truncate closes the stream (HDFS truncates closed files only), truncates,
// waits for the namenode's block recovery when it needs one, and reopens the
// file for append.
func (f *hdfsFile) Truncate(size int64) error {
	if f.w != nil {
		// A close error is expected after the failed write that led
		// here; the bytes that did reach the datanodes are cut below.
		_ = f.w.Close()
		f.w = nil
	}
	done, err := f.h.c.Truncate(f.name, size)
	if err != nil {
		return fmt.Errorf("hdfs: truncate %s to %d: %w", f.name, size, err)
	}
	for try := 0; !done; try++ {
		if try >= f.h.RecoveryTries {
			return fmt.Errorf("hdfs: truncate %s to %d: block recovery did not finish", f.name, size)
		}
		time.Sleep(f.h.RecoveryWait)
		info, err := f.h.c.Stat(f.name)
		if err != nil {
			return fmt.Errorf("hdfs: stat %s: %w", f.name, err)
		}
		if info.Size() != size {
			continue
		}
		w, err := f.h.c.Append(f.name)
		if err != nil {
			// Still under recovery (the lease is held); wait more.
			continue
		}
		f.w = w
		return nil
	}
	w, err := f.h.c.Append(f.name)
	if err != nil {
		return fmt.Errorf("hdfs: reopen %s after truncate: %w", f.name, err)
	}
	f.w = w
	return nil
}

func (f *hdfsFile) Close() error {
	if f.w == nil {
		return nil
	}
	err := f.w.Close()
	f.w = nil
	if err != nil {
		return fmt.Errorf("hdfs: close %s: %w", f.name, err)
	}
	return nil
}
