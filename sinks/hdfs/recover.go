package hdfs

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
)

// recoverInUse gives their final names to the files that a previous run left
// with in-use names (it crashed or could not close them). It scans the
// literal base directory of hdfs.path; files written by this sink match the
// in-use prefix and suffix, the literal start of the file prefix, and carry
// a ".<counter>" part. Everything in them was flushed before its batch was
// committed; a batch being written when the process died may have left a
// tail, which its redelivery repeats in a new file.
func (s *Sink) recoverInUse(ctx context.Context) error {
	if s.cfg.InUsePrefix == "" && s.cfg.InUseSuffix == "" {
		return nil // in-use files cannot be told from complete ones
	}
	root := strings.TrimSuffix(s.cfg.Path.baseDir(), "/")
	if root == "" || root == "." {
		s.log.Warn("hdfs.path starts with an escape: in-use files left by an earlier run are not recovered")
		return nil
	}
	lead := s.cfg.InUsePrefix + s.cfg.FilePrefix.LiteralPrefix()
	var found []string
	err := s.fs.Walk(ctx, root, func(name string, _ int64) error {
		base := path.Base(name)
		if !strings.HasPrefix(base, lead) || !strings.HasSuffix(base, s.cfg.InUseSuffix) ||
			len(base) < len(s.cfg.InUsePrefix)+len(s.cfg.InUseSuffix) || !hasCounter(base) {
			return nil
		}
		found = append(found, name)
		return nil
	})
	if err != nil {
		return err
	}
	var errs []error
	for _, name := range found {
		dir, base := path.Split(name)
		final := dir + strings.TrimSuffix(strings.TrimPrefix(base, s.cfg.InUsePrefix), s.cfg.InUseSuffix)
		if err := s.rename(ctx, name, final); err != nil {
			errs = append(errs, err)
			continue
		}
		s.log.Info("recovered a file left in use", "file", final)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("recovering in-use files under %s: %w", root, err)
	}
	return nil
}

// hasCounter reports whether name has a "." followed by at least 10 digits
// (the millisecond counter every file name carries).
func hasCounter(name string) bool {
	for i := 0; i < len(name); i++ {
		if name[i] != '.' {
			continue
		}
		j := i + 1
		for j < len(name) && name[j] >= '0' && name[j] <= '9' {
			j++
		}
		if j-i-1 >= 10 {
			return true
		}
	}
	return false
}
