package file

import (
	"fmt"
	"os"
	"path/filepath"
)

// replayState is the channel rebuilt from the checkpoint and the log.
type replayState struct {
	q        queue
	nextTxid uint64
}

// loadCheckpoint returns the newest usable checkpoint, falling back to the
// backup; nil means a full replay of every segment.
func (c *Channel) loadCheckpoint() *checkpoint {
	_ = c.fs.Remove(filepath.Join(c.cfg.CheckpointDir, ckptTmpName))
	ck, err := readCheckpoint(c.fs, c.cfg.CheckpointDir)
	if err == nil && ck != nil {
		return ck
	}
	if err != nil {
		c.log.Warn("checkpoint unreadable", "err", err)
	}
	if c.cfg.UseDualCheckpoints {
		bk, berr := readCheckpoint(c.fs, c.cfg.BackupCheckpointDir)
		if berr == nil && bk != nil {
			c.log.Warn("using the backup checkpoint", "dir", c.cfg.BackupCheckpointDir)
			return bk
		}
		if berr != nil {
			c.log.Warn("backup checkpoint unreadable", "err", berr)
		}
	}
	if err != nil {
		c.log.Warn("replaying every log segment; events consumed before the lost checkpoint may be delivered again")
	}
	return nil
}

// replay rebuilds the queue: the checkpoint's pointers, then every
// committed transaction of the log written after it, in log order. A torn
// tail in the newest segment (an append cut short by a crash) is cut off
// and reported; a bad record anywhere else stops the channel with an error
// naming the file and offset.
func (c *Channel) replay() (*replayState, error) {
	segs, err := listSegments(c.fs, c.cfg.DataDirs)
	if err != nil {
		return nil, err
	}
	ck := c.loadCheckpoint()
	var (
		q        queue
		removed         = map[ptr]bool{}
		pending         = map[uint64]*pendingTx{}
		nextTxid uint64 = 1
		start    ptr
	)
	if ck != nil {
		// The checkpoint's queue is adopted, not copied: with millions of
		// events a copy would double the memory of the start.
		q = *ck.loaded
		ck.loaded, ck.rest = nil, view{}
		for i := range ck.pending {
			p := ck.pending[i]
			pending[p.txid] = &p
		}
		nextTxid = max(ck.nextTxid, 1)
		start = ck.pos
		if len(segs) == 0 || segs[len(segs)-1].id < start.seg() {
			return nil, fmt.Errorf("checkpoint position %v is in segment %d, which is missing from %v", start, start.seg(), c.cfg.DataDirs)
		}
	}
	var records, events int
	for i, si := range segs {
		if si.id < start.seg() {
			f, err := c.fs.OpenFile(si.path, os.O_RDWR|os.O_APPEND, 0)
			if err != nil {
				return nil, fmt.Errorf("open segment %s: %w", si.path, err)
			}
			c.w.addSegment(&segment{si, f})
			continue
		}
		f, err := c.fs.OpenFile(si.path, os.O_RDWR|os.O_APPEND, 0)
		if err != nil {
			return nil, fmt.Errorf("open segment %s: %w", si.path, err)
		}
		from := int64(0)
		if si.id == start.seg() {
			from = start.off()
		}
		res, err := scanSegment(f, si.id, from, c.cfg.MaxFileSize, false, func(off int64, r record) error {
			records++
			nextTxid = max(nextTxid, r.txid+1)
			switch r.typ {
			case recPut:
				t := pending[r.txid]
				if t == nil {
					t = &pendingTx{txid: r.txid}
					pending[r.txid] = t
				}
				t.puts = append(t.puts, mkptr(si.id, off))
			case recTake:
				t := pending[r.txid]
				if t == nil {
					t = &pendingTx{txid: r.txid}
					pending[r.txid] = t
				}
				t.takes = append(t.takes, r.taken)
			case recCommit:
				if t := pending[r.txid]; t != nil {
					for _, p := range t.puts {
						q.pushBack(p)
						events++
					}
					for _, p := range t.takes {
						// Takes are nearly always of the head; anything
						// else is filtered out at the end.
						if h, ok := q.peekFront(); ok && h == p {
							q.popFront()
						} else {
							removed[p] = true
						}
					}
					delete(pending, r.txid)
				}
			case recRollback:
				delete(pending, r.txid)
			}
			return nil
		})
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("replay %s: %w", si.path, err)
		}
		last := i == len(segs)-1
		if res.bad != nil {
			if !last || !res.torn {
				f.Close()
				return nil, fmt.Errorf("corrupt record in %s at offset %d: %w; the channel cannot start: run Repair to cut the log off there (events after it are lost) or restore the directory",
					si.path, res.good, res.bad)
			}
			if res.good < segHeaderSize {
				// Created but its header never reached the disk: the
				// segment holds nothing.
				f.Close()
				if err := c.fs.Remove(si.path); err != nil {
					return nil, fmt.Errorf("remove empty torn segment %s: %w", si.path, err)
				}
				c.tornTails.Add(1)
				c.log.Warn("removed a segment whose header was torn by a crash", "file", si.path, "bytes", res.size)
				continue
			}
			if err := f.Truncate(res.good); err != nil {
				f.Close()
				return nil, fmt.Errorf("cut off torn tail of %s at offset %d: %w", si.path, res.good, err)
			}
			if err := f.Sync(); err != nil {
				f.Close()
				return nil, fmt.Errorf("fsync %s: %w", si.path, err)
			}
			c.tornTails.Add(1)
			c.log.Warn("cut off the torn tail of the log left by an interrupted write",
				"file", si.path, "offset", res.good, "bytes", res.size-res.good, "reason", res.bad)
		}
		c.w.addSegment(&segment{si, f})
	}
	if len(removed) > 0 {
		var kept queue
		for _, part := range q.view().parts {
			for _, o := range part.ch.off[part.lo:part.hi] {
				if p := mkptr(part.ch.seg, int64(o)); !removed[p] {
					kept.pushBack(p)
				}
			}
		}
		q = kept
	}
	if len(pending) > 0 {
		c.log.Info("dropped transactions that never committed", "count", len(pending))
	}
	// Every queued event must point into a segment we have.
	have := map[uint32]bool{}
	for _, id := range c.w.segmentIDs() {
		have[id] = true
	}
	for _, part := range q.view().parts {
		if !have[part.ch.seg] {
			p := mkptr(part.ch.seg, int64(part.ch.off[part.lo]))
			return nil, fmt.Errorf("queued event %v is in segment %d, which is missing from %v", p, p.seg(), c.cfg.DataDirs)
		}
	}
	c.log.Info("replay done", "fromCheckpoint", ck != nil, "records", records, "eventsAdded", events, "queued", q.len())
	return &replayState{q: q, nextTxid: nextTxid}, nil
}
