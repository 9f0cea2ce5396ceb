package hdfs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"sync/atomic"

	"ampsflume/flume"
	"ampsflume/sinks/dedupe"
)

// StateFile is the name, in the literal base directory of hdfs.path, of
// the record hdfs.dedupe.header keeps: the highest bookmark sequence written
// per publisher and the recorded length of every file being written.
const StateFile = ".ampsflume-dedupe"

// dedupeState is the sink's exactly-once bookkeeping (see package
// sinks/dedupe for the protocol and its crash analysis). It is used under
// the sink's lock.
type dedupeState struct {
	header                  string
	path                    string
	filter                  *dedupe.Filter
	skipped, noBM           atomic.Int64
	batchSkipped, batchNoBM int64
	batchWritten            int64
}

// recoverOutput, at start, makes the in-use files agree with the record:
// a file it lists is cut back to its recorded length; an in-use file it
// does not list was created after the record was saved, so nothing in it
// was recorded, and it is removed. Without a record (the first start in
// this mode) nothing is touched and an empty record is saved once the
// files of earlier runs are recovered.
func (s *Sink) recoverOutput(ctx context.Context) (found bool, err error) {
	d := s.dd
	st, found, err := dedupe.Load(d.path)
	if err != nil {
		return false, fmt.Errorf("key %q: %w", "hdfs.dedupe.header", err)
	}
	d.filter = dedupe.NewFilter(st.Highs)
	if !found {
		return false, nil
	}
	inUse, err := s.inUseFiles(ctx)
	if err != nil {
		return true, err
	}
	for name, size := range inUse {
		rec, listed := st.Files[name]
		switch {
		case !listed:
			if err := os.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return true, fmt.Errorf("removing unrecorded %s: %w", name, err)
			}
			s.log.Info("removed a file created after the last dedupe record; the channel delivers its events again", "file", name, "bytes", size)
		case size > rec:
			if err := cutFile(name, rec); err != nil {
				return true, err
			}
			s.log.Info("cut an unrecorded batch off the output; the channel delivers it again", "file", name, "from", size, "to", rec)
		case size < rec:
			s.log.Error("a file is shorter than its dedupe record: events were lost after they were written", "file", name, "size", size, "recorded", rec)
		}
	}
	return true, nil
}

func cutFile(name string, size int64) error {
	f, err := os.OpenFile(name, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("cutting %s back to its recorded %d bytes: %w", name, size, err)
	}
	err = f.Truncate(size)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("cutting %s back to its recorded %d bytes: %w", name, size, err)
	}
	return nil
}

// inUseFiles lists the files under the base directory with in-use names,
// and their sizes, as recoverInUse recognises them.
func (s *Sink) inUseFiles(ctx context.Context) (map[string]int64, error) {
	root := strings.TrimSuffix(s.cfg.Path.baseDir(), "/")
	lead := s.cfg.InUsePrefix + s.cfg.FilePrefix.LiteralPrefix()
	out := map[string]int64{}
	err := s.fs.Walk(ctx, root, func(name string, size int64) error {
		base := path.Base(name)
		if base == StateFile || !strings.HasPrefix(base, lead) || !strings.HasSuffix(base, s.cfg.InUseSuffix) || !hasCounter(base) {
			return nil
		}
		out[name] = size
		return nil
	})
	return out, err
}

// judge says whether e is written, counting what it skips.
func (s *Sink) judge(e *flume.Event) bool {
	v, ok := e.Headers[s.dd.header]
	switch s.dd.filter.Judge(v, ok) {
	case dedupe.Duplicate:
		s.dd.batchSkipped++
		return false
	case dedupe.NoBookmark:
		s.dd.batchNoBM++
	}
	s.dd.batchWritten++
	return true
}

// record fsyncs the files the batch touched and saves the record of every
// open file at its current length.
func (s *Sink) record(touched []*bucket) error {
	for _, b := range touched {
		for _, f := range b.files() {
			sf, ok := f.file.(interface{ Sync() error })
			if !ok {
				return fmt.Errorf("fsyncing %s: the file system cannot fsync", f.inUse)
			}
			if err := sf.Sync(); err != nil {
				return fmt.Errorf("fsyncing %s: %w", f.inUse, err)
			}
		}
	}
	return dedupe.Save(s.dd.path, s.dedupeSnapshot())
}

func (s *Sink) dedupeSnapshot() dedupe.State {
	st := dedupe.State{Highs: s.dd.filter.Highs(), Files: map[string]int64{}}
	for _, b := range s.buckets {
		for _, f := range b.retiring {
			st.Files[f.inUse] = f.pos
		}
		if b.cur != nil {
			st.Files[b.cur.inUse] = b.cur.pos
		}
	}
	return st
}

// endBatch settles the batch's bookkeeping.
func (s *Sink) endBatch(committed bool) {
	d := s.dd
	if committed {
		d.filter.Commit()
		d.skipped.Add(d.batchSkipped)
		d.noBM.Add(d.batchNoBM)
	} else {
		d.filter.Abort()
	}
	d.batchSkipped, d.batchNoBM, d.batchWritten = 0, 0, 0
}
