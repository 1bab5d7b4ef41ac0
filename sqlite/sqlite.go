// Package sqlite is tokend's embedded store: one SQLite file in WAL mode, through the pure-Go
// modernc.org/sqlite driver. All writes go through one connection, reads through a small pool.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"tokend"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is a tokend.Store on one SQLite database file.
type Store struct {
	w  *sql.DB // the one writer connection
	r  *sql.DB // readers
	tx *sql.Tx // set on the Store handed to a Tx callback
}

var _ tokend.Store = (*Store)(nil)

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Open opens (creating if needed) the database at path and applies pending migrations.
func Open(ctx context.Context, path string) (*Store, error) {
	pragmas := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "foreign_keys(1)", "synchronous(NORMAL)"} {
		pragmas.Add("_pragma", p)
	}
	dsn := "file:" + path + "?" + pragmas.Encode()
	w, err := sql.Open("sqlite", dsn+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite", dsn+"&mode=ro")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open readers: %w", err)
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	return &Store{w: w, r: r}, nil
}

// Migrate applies pending migrations to the database at path and reports the versions applied.
func Migrate(ctx context.Context, path string) error {
	s, err := Open(ctx, path)
	if err != nil {
		return err
	}
	return s.Close()
}

func migrate(ctx context.Context, db *sql.DB) error {
	p, err := goose.NewProvider(goose.DialectSQLite3, db, mustSub(migrations, "migrations"))
	if err != nil {
		return fmt.Errorf("sqlite: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	return nil
}

// Close closes the database.
func (s *Store) Close() error {
	return errors.Join(s.r.Close(), s.w.Close())
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	return s.r.PingContext(ctx)
}

// Tx runs fn in an IMMEDIATE transaction on the writer connection.
func (s *Store) Tx(ctx context.Context, fn func(tokend.Store) error) (err error) {
	if s.tx != nil {
		return fn(s) // already in one: join it
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return translate(err)
	}
	defer func() {
		if p := recover(); p != nil {
			tx.Rollback()
			panic(p)
		}
	}()
	if err := fn(&Store{w: s.w, r: s.r, tx: tx}); err != nil {
		tx.Rollback()
		return err
	}
	return translate(tx.Commit())
}

// reader returns the handle for a read: the transaction when in one, else the reader pool.
func (s *Store) reader() querier {
	if s.tx != nil {
		return s.tx
	}
	return s.r
}

// writer returns the handle for a write.
func (s *Store) writer() querier {
	if s.tx != nil {
		return s.tx
	}
	return s.w
}

// Publish is a no-op: an SQLite store serves one node, whose cache the service invalidates
// itself.
func (s *Store) Publish(context.Context, tokend.Invalidation) error { return nil }

// Subscribe returns at once: there are no other nodes to hear from.
func (s *Store) Subscribe(context.Context, func(tokend.Invalidation)) error { return nil }

// translate maps driver errors to domain errors by code, never by message text.
func translate(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return &tokend.Error{Code: tokend.ENotFound, Message: "Not found."}
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return &tokend.Error{Code: tokend.EConflict, Message: "It already exists."}
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return &tokend.Error{Code: tokend.ENotFound, Message: "A referenced object does not exist."}
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return &tokend.Error{Code: tokend.EUnavailable, Message: "The database is busy; try again."}
		}
	}
	return err
}

func notFound(what string) error {
	return &tokend.Error{Code: tokend.ENotFound, Message: what + " not found."}
}

// Times are stored as Unix microseconds; the zero time is NULL.

func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

func fromTS(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMicro(v.Int64).UTC()
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func page(p tokend.Page) (limit, offset int) {
	p = p.Normalize()
	return p.Limit, p.Offset
}
