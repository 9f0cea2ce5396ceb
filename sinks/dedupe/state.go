package dedupe

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// The State file is text, one field per line, so that an operator can read
// it:
//
//	ampsflume-dedupe 1
//	file "<output file name>"
//	length <bytes>
//	p <publisher> <highest sequence>      (one line per publisher, sorted)
//	f <bytes> "<output file name>"        (one line per file of Files, sorted)
//	crc <CRC-32C of every byte above, hex>
const (
	magic     = "ampsflume-dedupe 1"
	maxPubs   = 1 << 20
	maxLength = 1 << 62
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// ErrCorrupt is matched by errors about a damaged state file.
var ErrCorrupt = errors.New("dedupe state corrupt")

// ErrUnsynced is matched by a Save error that came after the rename: the new
// state is in place (a restart that is not a power loss finds it) but may
// not survive a power loss. A sink must then keep the output the new state
// describes, exactly as if Save had succeeded, and fail the batch.
var ErrUnsynced = errors.New("dedupe state saved but its directory not synced")

// State is what a deduplicating sink persists next to its output.
type State struct {
	// File is the output file the state describes, as the sink names it
	// (a base name within its directory, for file_roll).
	File string
	// Length is the size of File when the sequences were recorded: bytes
	// past it belong to a batch that was never recorded.
	Length int64
	// Highs is the highest sequence written, per publisher.
	Highs map[uint64]uint64
	// Files, for sinks writing several files at once (one per bucket),
	// maps each file being written to its recorded length, like File and
	// Length.
	Files map[string]int64
}

// Marshal encodes the state.
func (s State) Marshal() []byte {
	var b bytes.Buffer
	b.WriteString(magic + "\n")
	b.WriteString("file " + strconv.Quote(s.File) + "\n")
	b.WriteString("length " + strconv.FormatInt(s.Length, 10) + "\n")
	pubs := make([]uint64, 0, len(s.Highs))
	for p := range s.Highs {
		pubs = append(pubs, p)
	}
	slices.Sort(pubs)
	for _, p := range pubs {
		fmt.Fprintf(&b, "p %d %d\n", p, s.Highs[p])
	}
	names := make([]string, 0, len(s.Files))
	for n := range s.Files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		fmt.Fprintf(&b, "f %d %s\n", s.Files[n], strconv.Quote(n))
	}
	fmt.Fprintf(&b, "crc %08x\n", crc32.Checksum(b.Bytes(), crcTable))
	return b.Bytes()
}

// Unmarshal decodes a state written by Marshal; anything else is an error
// matching ErrCorrupt.
func Unmarshal(data []byte) (State, error) {
	bad := func(format string, args ...any) (State, error) {
		return State{}, fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
	}
	body, crcLine, ok := cutLastLine(data)
	if !ok {
		return bad("no checksum line")
	}
	hex, ok := strings.CutPrefix(crcLine, "crc ")
	if !ok || len(hex) != 8 {
		return bad("no checksum line")
	}
	want, err := strconv.ParseUint(hex, 16, 32)
	if err != nil {
		return bad("checksum %q is not hexadecimal", hex)
	}
	if got := crc32.Checksum(body, crcTable); uint32(want) != got {
		return bad("checksum mismatch (recorded %08x, computed %08x)", want, got)
	}
	lines := strings.Split(strings.TrimSuffix(string(body), "\n"), "\n")
	if len(lines) < 3 || lines[0] != magic {
		return bad("not a dedupe state (first line %q)", lines[0])
	}
	var s State
	q, ok := strings.CutPrefix(lines[1], "file ")
	if !ok {
		return bad("line 2 is not the file line")
	}
	if s.File, err = strconv.Unquote(q); err != nil {
		return bad("file name %s is not quoted", q)
	}
	n, ok := strings.CutPrefix(lines[2], "length ")
	if !ok {
		return bad("line 3 is not the length line")
	}
	if s.Length, err = strconv.ParseInt(n, 10, 64); err != nil || s.Length < 0 || s.Length > maxLength {
		return bad("length %q is not a byte count", n)
	}
	if len(lines)-3 > maxPubs {
		return bad("%d publishers", len(lines)-3)
	}
	s.Highs = make(map[uint64]uint64, len(lines)-3)
	for i, l := range lines[3:] {
		if rest, ok := strings.CutPrefix(l, "f "); ok {
			n, q, _ := strings.Cut(rest, " ")
			size, err1 := strconv.ParseInt(n, 10, 64)
			name, err2 := strconv.Unquote(q)
			if err1 != nil || err2 != nil || size < 0 || size > maxLength {
				return bad("line %d: bad file line", i+4)
			}
			if s.Files == nil {
				s.Files = map[string]int64{}
			}
			if _, dup := s.Files[name]; dup {
				return bad("line %d: file %q repeated", i+4, name)
			}
			s.Files[name] = size
			continue
		}
		f := strings.Fields(l)
		if len(f) != 3 || f[0] != "p" {
			return bad("line %d is not a publisher line", i+4)
		}
		p, err1 := strconv.ParseUint(f[1], 10, 64)
		q, err2 := strconv.ParseUint(f[2], 10, 64)
		if err1 != nil || err2 != nil || p == 0 {
			return bad("line %d: bad publisher or sequence", i+4)
		}
		if _, dup := s.Highs[p]; dup {
			return bad("line %d: publisher %d repeated", i+4, p)
		}
		s.Highs[p] = q
	}
	return s, nil
}

// cutLastLine splits data ending in "\n" into everything up to and
// including the next-to-last newline, and the last line without its newline.
func cutLastLine(data []byte) (body []byte, last string, ok bool) {
	if len(data) == 0 || data[len(data)-1] != '\n' {
		return nil, "", false
	}
	i := bytes.LastIndexByte(data[:len(data)-1], '\n')
	if i < 0 {
		return nil, "", false
	}
	return data[:i+1], string(data[i+1 : len(data)-1]), true
}

// Load reads the state file at path. A missing file is not an error: it
// returns an empty state and false.
func Load(path string) (State, bool, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return State{Highs: map[uint64]uint64{}}, false, nil
	}
	if err != nil {
		return State{}, false, fmt.Errorf("reading dedupe state: %w", err)
	}
	s, err := Unmarshal(data)
	if err != nil {
		return State{}, false, fmt.Errorf("%s: %w (remove it only if the output beside it is discarded too)", path, err)
	}
	return s, true, nil
}

// Save replaces the state file at path atomically and durably: a temporary
// file beside it is written and fsynced, renamed over path, and the
// directory is fsynced so that the rename itself survives a power loss.
func Save(path string, s State) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("saving dedupe state: %w", err)
	}
	_, err = f.Write(s.Marshal())
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return fmt.Errorf("saving dedupe state %s: %w", path, err)
	}
	if err := SyncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("saving dedupe state %s: %w: %w", path, ErrUnsynced, err)
	}
	return nil
}

// SyncDir fsyncs a directory, making the creation, renaming or removal of
// its entries durable. File systems that cannot sync directories are
// tolerated.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP) {
		return nil
	}
	return err
}
