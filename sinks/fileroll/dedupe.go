package fileroll

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"

	"ampsflume/flume"
	"ampsflume/sinks/dedupe"
)

// StateFile is the name, in sink.directory, of the record that
// sink.dedupe.header keeps: the highest bookmark sequence written per
// publisher, and the output file and length they describe.
const StateFile = ".ampsflume-dedupe"

// dedupeState is the sink's exactly-once bookkeeping (see package
// sinks/dedupe for the protocol and its crash analysis). It is used under
// the sink's lock.
type dedupeState struct {
	header  string
	path    string // of the state file
	filter  *dedupe.Filter
	skipped atomic.Int64 // duplicates skipped in committed batches
	noBM    atomic.Int64 // events written without a bookmark
	// batch counts for the current transaction, added to the counters once
	// it commits so that retries are not counted twice.
	batchSkipped, batchNoBM int64
	// needCut is set when a failed batch could not be cut out of the file:
	// no batch is written until it is, since the file may not be abandoned
	// (the state names it, and its tail would be duplicates).
	needCut bool
}

// recoverOutput loads the state and cuts the file it names back to the
// recorded length: bytes past it belong to a batch that was never recorded,
// whose transaction was never committed and which the channel gives again.
func (s *Sink) recoverOutput() error {
	d := s.dd
	st, found, err := dedupe.Load(d.path)
	if err != nil {
		return fmt.Errorf("file_roll sink %q: key %q: %w", s.name, "sink.dedupe.header", err)
	}
	d.filter = dedupe.NewFilter(st.Highs)
	if !found || st.File == "" {
		return nil
	}
	path := filepath.Join(s.cfg.Directory, st.File)
	info, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		s.log.Warn("the file named by the dedupe state is gone; its events are not written again", "file", path)
		return nil
	case err != nil:
		return fmt.Errorf("file_roll sink %q: %w", s.name, err)
	case info.Size() < st.Length:
		s.log.Error("the file named by the dedupe state is shorter than recorded: events were lost after they were written",
			"file", path, "size", info.Size(), "recorded", st.Length)
		return nil
	case info.Size() == st.Length:
		return nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err == nil {
		err = f.Truncate(st.Length)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fmt.Errorf("file_roll sink %q: cutting %s back to its recorded %d bytes: %w", s.name, path, st.Length, err)
	}
	s.log.Info("cut an unrecorded batch off the output; the channel delivers it again",
		"file", path, "from", info.Size(), "to", st.Length)
	return nil
}

// save records the highest sequences, admitted ones included, as the state
// of the current file at its current length.
func (s *Sink) save() error {
	st := dedupe.State{File: filepath.Base(s.path), Length: s.pos, Highs: s.dd.filter.Highs()}
	if err := dedupe.Save(s.dd.path, st); err != nil {
		return fmt.Errorf("file_roll sink %q: %w", s.name, err)
	}
	return nil
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
	return true
}

// endBatch settles the batch's bookkeeping: committed (its sequences are
// recorded and its counts kept) or not.
func (s *Sink) endBatch(committed bool) {
	d := s.dd
	if committed {
		d.filter.Commit()
		d.skipped.Add(d.batchSkipped)
		d.noBM.Add(d.batchNoBM)
	} else {
		d.filter.Abort()
	}
	d.batchSkipped, d.batchNoBM = 0, 0
}

// cut retries cutting a failed batch out of the file.
func (s *Sink) cut() error {
	err := s.file.Truncate(s.offset)
	if err == nil {
		_, err = s.file.Seek(s.offset, io.SeekStart)
	}
	if err != nil {
		return fmt.Errorf("file_roll sink %q: a failed batch is still in %s past %d bytes and cannot be cut out: %w",
			s.name, s.path, s.offset, err)
	}
	s.pos = s.offset
	s.dd.needCut = false
	return nil
}

// ExtraMetrics reports, with sink.dedupe.header set, the redelivered events
// skipped and the events written without a bookmark.
func (s *Sink) ExtraMetrics() []flume.Metric {
	if s.dd == nil {
		return nil
	}
	return []flume.Metric{
		{Name: "EventDuplicateSkippedCount", Value: float64(s.dd.skipped.Load())},
		{Name: "EventNoBookmarkCount", Value: float64(s.dd.noBM.Load())},
	}
}
