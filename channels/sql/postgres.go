package sql

import (
	"context"
	dbsql "database/sql"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"ampsflume/flume"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// defaultPoll is how often a waiting take or commit looks at PostgreSQL
// again when no commit of this process woke it: another process may share
// the channel's rows.
const defaultPoll = 100 * time.Millisecond

// schemaLock is the advisory lock key that serializes schema creation, so
// that channels starting together do not race on CREATE TABLE.
const schemaLock = 0x666c756d65 // "flume"

// postgresStore keeps the events in PostgreSQL. A take claims a row with
// SELECT ... FOR UPDATE SKIP LOCKED in the flume transaction's own database
// transaction, so concurrent takers (in this process or others) never get
// the same row, and a rollback or a crash releases the row lock, leaving the
// row to be taken again first. A per-channel row in flume_channel holds the
// event count; every commit updates it first, which serializes the commits
// of a channel: the capacity check holds until the commit, and ids drawn
// from the sequence enter the table in commit order.
type postgresStore struct {
	channel string
	cfg     Config
	db      atomic.Pointer[dbsql.DB]
	// lastSize is returned by size when the database cannot be asked.
	lastSize atomic.Int64
}

func newPostgres(channel string, cfg Config) *postgresStore {
	return &postgresStore{channel: channel, cfg: cfg}
}

func (s *postgresStore) pollInterval() time.Duration {
	if s.cfg.PollInterval > 0 {
		return s.cfg.PollInterval
	}
	return defaultPoll
}

var postgresSchema = []string{
	`CREATE TABLE IF NOT EXISTS flume_event (
		channel TEXT NOT NULL,
		id      BIGINT NOT NULL,
		headers BYTEA NOT NULL,
		body    BYTEA NOT NULL,
		PRIMARY KEY (channel, id)
	)`,
	`CREATE SEQUENCE IF NOT EXISTS flume_event_id_seq`,
	`CREATE TABLE IF NOT EXISTS flume_channel (
		name TEXT PRIMARY KEY,
		size BIGINT NOT NULL
	)`,
}

func (s *postgresStore) open(ctx context.Context) error {
	db, err := dbsql.Open("pgx", s.cfg.URL)
	if err != nil {
		return fmt.Errorf("postgresql %s: %w", redact(s.cfg.URL), err)
	}
	db.SetMaxOpenConns(s.cfg.MaxConnections)
	db.SetMaxIdleConns(s.cfg.MaxConnections)
	if err := s.prepare(ctx, db); err != nil {
		db.Close()
		return fmt.Errorf("postgresql %s: %w", redact(s.cfg.URL), err)
	}
	s.db.Store(db)
	return nil
}

// prepare creates the schema when allowed, registers the channel and
// recounts its events, in case the count was changed by hand.
func (s *postgresStore) prepare(ctx context.Context, db *dbsql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(schemaLock)); err != nil {
		return err
	}
	if s.cfg.CreateSchema {
		for _, stmt := range postgresSchema {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("create schema: %w", err)
			}
		}
	} else {
		for _, rel := range []string{"flume_event", "flume_event_id_seq", "flume_channel"} {
			var ok bool
			if err := tx.QueryRowContext(ctx, `SELECT to_regclass($1) IS NOT NULL`, rel).Scan(&ok); err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("%s does not exist and create.schema is false", rel)
			}
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO flume_channel (name, size) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING`, s.channel); err != nil {
		return err
	}
	var size, count int64
	if err := tx.QueryRowContext(ctx, `SELECT size FROM flume_channel WHERE name = $1 FOR UPDATE`, s.channel).Scan(&size); err != nil {
		return err
	}
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM flume_event WHERE channel = $1`, s.channel).Scan(&count); err != nil {
		return err
	}
	if size != count {
		if _, err := tx.ExecContext(ctx, `UPDATE flume_channel SET size = $2 WHERE name = $1`, s.channel, count); err != nil {
			return err
		}
	}
	s.lastSize.Store(count)
	return tx.Commit()
}

func (s *postgresStore) close() error {
	if db := s.db.Swap(nil); db != nil {
		return db.Close()
	}
	return nil
}

func (s *postgresStore) begin(ctx context.Context, t *transaction) error {
	if t.db != nil {
		return nil
	}
	db := s.db.Load()
	if db == nil {
		return flume.ErrChannelClosed
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	t.db = tx
	return nil
}

// end rolls back a database transaction that holds no claims, so that an
// idle flume transaction does not keep a connection.
func (s *postgresStore) end(t *transaction) {
	if t.db != nil && len(t.claims) == 0 {
		_ = t.db.Rollback()
		t.db = nil
	}
}

func (s *postgresStore) take(ctx context.Context, t *transaction) (*flume.Event, error) {
	if err := s.begin(ctx, t); err != nil {
		return nil, fmt.Errorf("postgresql: %w", err)
	}
	// A nil slice would be sent as NULL, and id <> ALL(NULL) holds for no row.
	held := t.claims
	if held == nil {
		held = []int64{}
	}
	var id int64
	var headers, body []byte
	err := t.db.QueryRowContext(ctx, `SELECT id, headers, body FROM flume_event
		WHERE channel = $1 AND id <> ALL($2::bigint[])
		ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED`, s.channel, held).Scan(&id, &headers, &body)
	if errors.Is(err, dbsql.ErrNoRows) {
		s.end(t)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("postgresql: take: %w", err)
	}
	h, err := decodeHeaders(headers)
	if err != nil {
		return nil, fmt.Errorf("postgresql: event %d: %w", id, err)
	}
	t.claims = append(t.claims, id)
	if body == nil {
		body = []byte{}
	}
	return &flume.Event{Headers: h, Body: body}, nil
}

func (s *postgresStore) commit(ctx context.Context, t *transaction) error {
	if len(t.puts) == 0 && len(t.claims) == 0 {
		s.end(t)
		return nil
	}
	if err := s.begin(ctx, t); err != nil {
		return fmt.Errorf("postgresql: %w", err)
	}
	net := len(t.puts) - len(t.claims)
	res, err := t.db.ExecContext(ctx, `UPDATE flume_channel SET size = size + $2
		WHERE name = $1 AND ($3 = 0 OR $2 <= 0 OR size + $2 <= $3)`, s.channel, int64(net), int64(s.cfg.Capacity))
	if err != nil {
		return fmt.Errorf("postgresql: count: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("postgresql: count: %w", err)
	} else if n == 0 {
		// Nothing was locked or written; keep only the claims.
		s.end(t)
		return errNoRoom
	}
	if len(t.puts) > 0 {
		headers := make([][]byte, len(t.puts))
		bodies := make([][]byte, len(t.puts))
		for i, e := range t.puts {
			headers[i] = encodeHeaders(nil, e.Headers)
			bodies[i] = e.Body
			if bodies[i] == nil {
				bodies[i] = []byte{}
			}
		}
		// The sort by ordinality comes before nextval is evaluated, so ids
		// follow the order of the puts.
		if _, err := t.db.ExecContext(ctx, `INSERT INTO flume_event (channel, id, headers, body)
			SELECT $1, nextval('flume_event_id_seq'), u.h, u.b
			FROM unnest($2::bytea[], $3::bytea[]) WITH ORDINALITY AS u(h, b, n)
			ORDER BY u.n`, s.channel, headers, bodies); err != nil {
			return fmt.Errorf("postgresql: insert: %w", err)
		}
	}
	if len(t.claims) > 0 {
		res, err := t.db.ExecContext(ctx, `DELETE FROM flume_event WHERE channel = $1 AND id = ANY($2::bigint[])`,
			s.channel, t.claims)
		if err != nil {
			return fmt.Errorf("postgresql: delete: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("postgresql: delete: %w", err)
		} else if n != int64(len(t.claims)) {
			return fmt.Errorf("postgresql: delete: %d of the %d taken events were gone: the table was changed behind the channel", len(t.claims)-int(n), len(t.claims))
		}
	}
	if err := t.db.Commit(); err != nil {
		t.db = nil
		return fmt.Errorf("postgresql: commit: %w", err)
	}
	t.db = nil
	return nil
}

func (s *postgresStore) rollback(t *transaction) {
	if t.db != nil {
		_ = t.db.Rollback()
		t.db = nil
	}
}

func (s *postgresStore) size(ctx context.Context) int {
	if db := s.db.Load(); db != nil {
		var n int64
		if err := db.QueryRowContext(ctx, `SELECT size FROM flume_channel WHERE name = $1`, s.channel).Scan(&n); err == nil {
			s.lastSize.Store(n)
		}
	}
	return int(s.lastSize.Load())
}
