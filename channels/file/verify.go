package file

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Dirs names a file channel's directories, for the offline Verify and
// Repair.
type Dirs struct {
	CheckpointDir       string
	DataDirs            []string
	BackupCheckpointDir string // optional
}

// Problem is a bad record (or header) found in a segment.
type Problem struct {
	File   string
	Offset int64
	Err    string
	// Torn is set when nothing valid follows: the tail of an interrupted
	// write, which Start cuts off by itself when it is in the newest
	// segment.
	Torn bool
}

// Cut is what Repair removed from one segment.
type Cut struct {
	File   string
	Offset int64 // the segment now ends here (0: the file was removed)
	Bytes  int64 // bytes dropped
}

// Report is the outcome of Verify or Repair.
type Report struct {
	Segments int
	Records  int
	Bytes    int64
	// Checkpoint is "ok", "missing", or what is wrong with it.
	Checkpoint string
	Problems   []Problem
	// Repair only.
	Cuts              []Cut
	CheckpointRemoved bool
}

// OK reports whether Verify found nothing wrong.
func (r *Report) OK() bool {
	return len(r.Problems) == 0 && (r.Checkpoint == "ok" || r.Checkpoint == "missing")
}

func (r *Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d segments, %d records, %d bytes; checkpoint: %s\n", r.Segments, r.Records, r.Bytes, r.Checkpoint)
	for _, p := range r.Problems {
		kind := "corrupt"
		if p.Torn {
			kind = "torn tail"
		}
		fmt.Fprintf(&b, "%s: %s at offset %d: %s\n", kind, p.File, p.Offset, p.Err)
	}
	for _, c := range r.Cuts {
		if c.Offset == 0 {
			fmt.Fprintf(&b, "removed %s (%d bytes)\n", c.File, c.Bytes)
		} else {
			fmt.Fprintf(&b, "cut %s at offset %d, dropping %d bytes\n", c.File, c.Offset, c.Bytes)
		}
	}
	if r.CheckpointRemoved {
		b.WriteString("removed the checkpoint: the next start replays every segment\n")
	}
	return b.String()
}

// Verify checks a stopped channel's checkpoint and every record of every
// segment without changing anything. It takes the directories' locks, so it
// fails while an agent uses them.
func Verify(d Dirs) (*Report, error) { return check(osFS{}, d, false) }

// Repair cuts every segment off at its first bad record, reporting what it
// dropped, and removes the checkpoint when a cut reaches what it covers, so
// that the next start replays what is left. Events whose records were in a
// dropped part are lost; everything before the damage is kept.
func Repair(d Dirs) (*Report, error) { return check(osFS{}, d, true) }

func check(fsys fs, d Dirs, repair bool) (*Report, error) {
	if d.CheckpointDir == "" || len(d.DataDirs) == 0 {
		return nil, errors.New("a checkpoint directory and at least one data directory are required")
	}
	dirs := append([]string{d.CheckpointDir}, d.DataDirs...)
	if d.BackupCheckpointDir != "" {
		dirs = append(dirs, d.BackupCheckpointDir)
	}
	for _, dir := range dirs {
		if _, err := fsys.ReadDir(dir); err != nil {
			return nil, fmt.Errorf("directory %s: %w", dir, err)
		}
		l, err := fsys.Lock(filepath.Join(dir, lockName))
		if err != nil {
			return nil, err
		}
		defer l.Close()
	}
	rep := &Report{Checkpoint: "ok"}
	ck, err := readCheckpoint(fsys, d.CheckpointDir)
	switch {
	case err != nil:
		rep.Checkpoint = err.Error()
	case ck == nil:
		rep.Checkpoint = "missing"
	}
	segs, err := listSegments(fsys, d.DataDirs)
	if err != nil {
		return nil, err
	}
	var cutUpTo uint32 // highest segment id cut
	for _, si := range segs {
		flag := os.O_RDONLY
		if repair {
			flag = os.O_RDWR | os.O_APPEND
		}
		f, err := fsys.OpenFile(si.path, flag, 0)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", si.path, err)
		}
		res, err := scanSegment(f, si.id, 0, DefaultMaxFileSize, true, func(int64, record) error { return nil })
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("read %s: %w", si.path, err)
		}
		rep.Segments++
		rep.Records += res.records
		rep.Bytes += res.size
		if res.bad == nil {
			f.Close()
			continue
		}
		rep.Problems = append(rep.Problems, Problem{File: si.path, Offset: res.good, Err: res.bad.Error(), Torn: res.torn})
		if !repair {
			f.Close()
			continue
		}
		cutUpTo = max(cutUpTo, si.id)
		if res.good < segHeaderSize {
			f.Close()
			if err := fsys.Remove(si.path); err != nil {
				return rep, fmt.Errorf("remove %s: %w", si.path, err)
			}
			rep.Cuts = append(rep.Cuts, Cut{File: si.path, Offset: 0, Bytes: res.size})
			continue
		}
		err = f.Truncate(res.good)
		if err == nil {
			err = f.Sync()
		}
		f.Close()
		if err != nil {
			return rep, fmt.Errorf("cut %s at offset %d: %w", si.path, res.good, err)
		}
		rep.Cuts = append(rep.Cuts, Cut{File: si.path, Offset: res.good, Bytes: res.size - res.good})
	}
	// A checkpoint may point at events in the part just cut; without it
	// the next start rebuilds the queue from what is left.
	if repair && cutUpTo > 0 && (ck == nil || cutUpTo <= ck.pos.seg()) && rep.Checkpoint != "missing" {
		for _, dir := range []string{d.CheckpointDir, d.BackupCheckpointDir} {
			if dir == "" {
				continue
			}
			if err := fsys.Remove(filepath.Join(dir, ckptName)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return rep, fmt.Errorf("remove checkpoint: %w", err)
			}
			rep.CheckpointRemoved = true
		}
	}
	return rep, nil
}
