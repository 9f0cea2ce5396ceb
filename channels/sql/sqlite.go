package sql

import (
	"context"
	dbsql "database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"ampsflume/flume"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// sqliteStore keeps the events in an SQLite file that it holds exclusively
// (locking_mode EXCLUSIVE), so this process is the only writer and can
// serialize claims in memory: the index of unclaimed ids is rebuilt from the
// table at open, and a claim is just an id moved out of it. A crash loses the
// claims and nothing else, which is exactly a rollback.
type sqliteStore struct {
	channel string
	cfg     Config
	// db is swapped by open and read by takes that may still be running
	// when a stopped channel is started again.
	db atomic.Pointer[dbsql.DB]

	// writeMu serializes commits, so that ids are allocated, written and
	// queued in one order, and a capacity check holds until its commit is
	// done.
	writeMu sync.Mutex
	nextID  int64

	mu      sync.Mutex
	queue   idQueue
	claimed int // rows taken by open transactions
}

func newSQLite(channel string, cfg Config) *sqliteStore {
	return &sqliteStore{channel: channel, cfg: cfg}
}

func (s *sqliteStore) pollInterval() time.Duration { return 0 }

const sqliteSchema = `CREATE TABLE IF NOT EXISTS flume_event (
	channel TEXT NOT NULL,
	id      INTEGER NOT NULL,
	headers BLOB NOT NULL,
	body    BLOB NOT NULL,
	PRIMARY KEY (channel, id)
)`

func (s *sqliteStore) dsn() string {
	// WAL with synchronous=FULL makes every commit durable once it returns.
	// The busy timeout is how long a second process waits for the lock
	// before it is told the file is in use.
	q := url.Values{}
	for _, p := range []string{
		"busy_timeout(1000)",
		"locking_mode(EXCLUSIVE)",
		"journal_mode(WAL)",
		"synchronous(FULL)",
	} {
		q.Add("_pragma", p)
	}
	return "file:" + (&url.URL{Path: s.cfg.Path}).EscapedPath() + "?" + q.Encode()
}

func (s *sqliteStore) open(ctx context.Context) error {
	if dir := filepath.Dir(s.cfg.Path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("sqlite: %w", err)
		}
	}
	db, err := dbsql.Open("sqlite", s.dsn())
	if err != nil {
		return fmt.Errorf("sqlite %s: %w", s.cfg.Path, err)
	}
	// One connection: it holds the exclusive lock, and SQLite has one
	// writer anyway.
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	if err := s.load(ctx, db); err != nil {
		db.Close()
		if strings.Contains(err.Error(), "database is locked") || strings.Contains(err.Error(), "SQLITE_BUSY") {
			return fmt.Errorf("sqlite %s is in use by another process (or another channel): give each jdbc channel its own path: %w", s.cfg.Path, err)
		}
		return fmt.Errorf("sqlite %s: %w", s.cfg.Path, err)
	}
	s.db.Store(db)
	return nil
}

// load creates the schema when allowed and rebuilds the index of ids. Its
// first write takes the exclusive lock for the life of the connection.
func (s *sqliteStore) load(ctx context.Context, db *dbsql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if s.cfg.CreateSchema {
		if _, err := tx.ExecContext(ctx, sqliteSchema); err != nil {
			return fmt.Errorf("create schema: %w", err)
		}
	} else {
		var n int
		err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'flume_event'`).Scan(&n)
		if err != nil {
			return err
		}
		if n == 0 {
			return errors.New("table flume_event does not exist and create.schema is false")
		}
		// Take the write lock now rather than at the first commit.
		if _, err := tx.ExecContext(ctx, `DELETE FROM flume_event WHERE 0`); err != nil {
			return err
		}
	}
	var maxID int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM flume_event`).Scan(&maxID); err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, `SELECT id FROM flume_event WHERE channel = ? ORDER BY id`, s.channel)
	if err != nil {
		return err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	s.writeMu.Lock()
	s.nextID = maxID + 1
	s.writeMu.Unlock()
	s.mu.Lock()
	s.queue = idQueue{ids: ids}
	s.claimed = 0
	s.mu.Unlock()
	return nil
}

func (s *sqliteStore) close() error {
	if db := s.db.Swap(nil); db != nil {
		return db.Close()
	}
	return nil
}

func (s *sqliteStore) take(ctx context.Context, t *transaction) (*flume.Event, error) {
	s.mu.Lock()
	id, ok := s.queue.pop()
	if ok {
		s.claimed++
	}
	s.mu.Unlock()
	if !ok {
		return nil, nil
	}
	var headers, body []byte
	db := s.db.Load()
	if db == nil {
		s.mu.Lock()
		s.queue.giveBack([]int64{id})
		s.claimed--
		s.mu.Unlock()
		return nil, flume.ErrChannelClosed
	}
	err := db.QueryRowContext(ctx, `SELECT headers, body FROM flume_event WHERE channel = ? AND id = ?`, s.channel, id).
		Scan(&headers, &body)
	var h map[string]string
	if err == nil {
		h, err = decodeHeaders(headers)
	}
	if err != nil {
		s.mu.Lock()
		s.queue.giveBack([]int64{id})
		s.claimed--
		s.mu.Unlock()
		return nil, fmt.Errorf("sqlite: read event %d: %w", id, err)
	}
	t.claims = append(t.claims, id)
	if body == nil {
		body = []byte{}
	}
	return &flume.Event{Headers: h, Body: body}, nil
}

func (s *sqliteStore) commit(ctx context.Context, t *transaction) error {
	if len(t.puts) == 0 && len(t.claims) == 0 {
		return nil
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if net := len(t.puts) - len(t.claims); net > 0 && s.cfg.Capacity > 0 {
		s.mu.Lock()
		used := s.queue.len() + s.claimed
		s.mu.Unlock()
		if used+net > s.cfg.Capacity {
			return errNoRoom
		}
	}
	ids := make([]int64, len(t.puts))
	for i := range ids {
		ids[i] = s.nextID + int64(i)
	}
	if err := s.write(ctx, t, ids); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	s.nextID += int64(len(ids))
	s.mu.Lock()
	s.queue.push(ids)
	s.claimed -= len(t.claims)
	s.mu.Unlock()
	return nil
}

func (s *sqliteStore) write(ctx context.Context, t *transaction, ids []int64) error {
	db := s.db.Load()
	if db == nil {
		return flume.ErrChannelClosed
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if len(t.puts) > 0 {
		ins, err := tx.PrepareContext(ctx, `INSERT INTO flume_event (channel, id, headers, body) VALUES (?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer ins.Close()
		var hbuf []byte
		for i, e := range t.puts {
			hbuf = encodeHeaders(hbuf[:0], e.Headers)
			body := e.Body
			if body == nil {
				body = []byte{}
			}
			if _, err := ins.ExecContext(ctx, s.channel, ids[i], hbuf, body); err != nil {
				return err
			}
		}
	}
	if len(t.claims) > 0 {
		del, err := tx.PrepareContext(ctx, `DELETE FROM flume_event WHERE channel = ? AND id = ?`)
		if err != nil {
			return err
		}
		defer del.Close()
		for _, id := range t.claims {
			if _, err := del.ExecContext(ctx, s.channel, id); err != nil {
				return err
			}
		}
	}
	return tx.Commit()
}

func (s *sqliteStore) rollback(t *transaction) {
	if len(t.claims) == 0 {
		return
	}
	s.mu.Lock()
	s.queue.giveBack(t.claims)
	s.claimed -= len(t.claims)
	s.mu.Unlock()
}

func (s *sqliteStore) size(context.Context) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queue.len()
}
