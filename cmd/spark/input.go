package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
)

// openInput returns the messages source: the -file (a zip archive is read
// entry by entry) or standard input.
func openInput(e *env, file string) (io.ReadCloser, error) {
	if file == "" {
		return io.NopCloser(e.stdin), nil
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	var magic [4]byte
	n, _ := io.ReadFull(f, magic[:])
	if n == 4 && bytes.Equal(magic[:], []byte("PK\x03\x04")) {
		_ = f.Close()
		return openZip(file)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		_ = f.Close()
		return nil, err
	}
	return f, nil
}

type zipReader struct {
	io.Reader
	zr *zip.ReadCloser
}

func (z *zipReader) Close() error { return z.zr.Close() }

func openZip(file string) (io.ReadCloser, error) {
	zr, err := zip.OpenReader(file)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var readers []io.Reader
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			_ = zr.Close()
			return nil, fmt.Errorf("%s: %s: %w", file, f.Name, err)
		}
		// Entries are separate files: end each with the delimiter so the
		// last message of one does not run into the first of the next.
		readers = append(readers, rc, bytes.NewReader([]byte{'\n'}))
	}
	return &zipReader{Reader: io.MultiReader(readers...), zr: zr}, nil
}

// messages calls fn with each non-empty message of r, split at delim.
func messages(r io.Reader, delim byte, fn func([]byte) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		msg, err := br.ReadSlice(delim)
		if err == bufio.ErrBufferFull {
			// A message longer than the buffer: collect it whole.
			long := append([]byte(nil), msg...)
			for err == bufio.ErrBufferFull {
				msg, err = br.ReadSlice(delim)
				long = append(long, msg...)
			}
			msg = long
		}
		if err != nil && err != io.EOF {
			return err
		}
		body := bytes.TrimSuffix(msg, []byte{delim})
		if delim == '\n' {
			body = bytes.TrimSuffix(body, []byte{'\r'})
		}
		if len(body) > 0 {
			if ferr := fn(body); ferr != nil {
				return ferr
			}
		}
		if err == io.EOF {
			return nil
		}
	}
}
