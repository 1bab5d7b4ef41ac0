// Package postgres is tokend's store for several nodes sharing one PostgreSQL database, through
// pgx. Nodes tell each other about revoked credentials with LISTEN/NOTIFY (notify.go).
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"net"
	"path"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"tokend"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is a tokend.Store on a PostgreSQL database.
type Store struct {
	pool *pgxpool.Pool
	tx   pgx.Tx // set on the Store handed to a Tx callback
}

var _ tokend.Store = (*Store)(nil)

// querier is what *pgxpool.Pool and pgx.Tx share.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Open connects to the database at url (postgres://…) and applies pending migrations. Tables
// live in the connection's current schema, so a search_path parameter in url selects it.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse url: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	return &Store{pool: pool}, nil
}

// migrate applies pending migrations under a session advisory lock, so that nodes starting at
// once do not run them twice. A database migrated past what this binary knows is refused.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	p, err := provider(ctx, db)
	if err != nil {
		return err
	}
	dbv, err := p.GetDBVersion(ctx)
	if err != nil {
		return fmt.Errorf("postgres: schema version: %w", err)
	}
	if known := knownVersion(p); dbv > known {
		return &tokend.SchemaNewerError{Database: dbv, Known: known}
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	return nil
}

func provider(ctx context.Context, db *sql.DB) (*goose.Provider, error) {
	// The lock is per schema: migrations of one schema need not wait for another's (tests give
	// every store its own schema).
	var schema string
	if err := db.QueryRowContext(ctx, `SELECT coalesce(current_schema(), '')`).Scan(&schema); err != nil {
		return nil, fmt.Errorf("postgres: migrations: %w", err)
	}
	h := fnv.New64a()
	h.Write([]byte("tokend migrations " + schema))
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(int64(h.Sum64())), lock.WithLockTimeout(1, 300))
	if err != nil {
		return nil, fmt.Errorf("postgres: migrations: %w", err)
	}
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, fmt.Errorf("postgres: migrations: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, sub, goose.WithSessionLocker(locker))
	if err != nil {
		return nil, fmt.Errorf("postgres: migrations: %w", err)
	}
	return p, nil
}

func knownVersion(p *goose.Provider) int64 {
	src := p.ListSources()
	return src[len(src)-1].Version
}

// Status reports the migrations of the database at url, applying none; a version applied by
// a newer binary is listed without a name.
func Status(ctx context.Context, url string) ([]tokend.Migration, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse url: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	defer pool.Close()
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	p, err := provider(ctx, db)
	if err != nil {
		return nil, err
	}
	st, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: migration status: %w", err)
	}
	var out []tokend.Migration
	for _, m := range st {
		mig := tokend.Migration{Version: m.Source.Version, Name: path.Base(m.Source.Path)}
		if m.State == goose.StateApplied {
			mig.AppliedAt = m.AppliedAt.UTC()
		}
		out = append(out, mig)
	}
	dbv, err := p.GetDBVersion(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: schema version: %w", err)
	}
	if dbv > knownVersion(p) {
		out = append(out, tokend.Migration{Version: dbv})
	}
	return out, nil
}

// Close closes the connection pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	return translate(s.pool.Ping(ctx))
}

// Tx runs fn in a transaction (READ COMMITTED, the server's default). A Tx inside fn joins
// the outer transaction.
func (s *Store) Tx(ctx context.Context, fn func(tokend.Store) error) error {
	if s.tx != nil {
		return fn(s)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return translate(err)
	}
	defer func() {
		if p := recover(); p != nil {
			tx.Rollback(context.WithoutCancel(ctx))
			panic(p)
		}
	}()
	if err := fn(&Store{pool: s.pool, tx: tx}); err != nil {
		tx.Rollback(context.WithoutCancel(ctx))
		return err
	}
	return translate(tx.Commit(ctx))
}

// q returns the handle for a statement: the transaction when in one, else the pool.
func (s *Store) q() querier {
	if s.tx != nil {
		return s.tx
	}
	return s.pool
}

// translate maps driver errors to domain errors by SQLSTATE and type, never by message text.
func translate(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return &tokend.Error{Code: tokend.ENotFound, Message: "Not found."}
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505": // unique_violation
			return &tokend.Error{Code: tokend.EConflict, Message: "It already exists."}
		case "23503": // foreign_key_violation
			return &tokend.Error{Code: tokend.ENotFound, Message: "A referenced object does not exist."}
		case "40001", "40P01", "55P03": // serialization_failure, deadlock_detected, lock_not_available
			return &tokend.Error{Code: tokend.EUnavailable, Message: "The database is busy; try again.", RetryAfter: tokend.RetryBusy}
		case "53300", "57P01", "57P02", "57P03": // too_many_connections, admin/crash shutdown, cannot_connect_now
			return unavailable()
		}
		if strings.HasPrefix(pe.Code, "08") { // connection_exception
			return unavailable()
		}
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err // the caller gave up; the database may be fine
	}
	// The server cannot be reached, or the link broke under a query: by type, never by text.
	var (
		ce *pgconn.ConnectError
		ne net.Error
	)
	if errors.As(err, &ce) || pgconn.SafeToRetry(err) || errors.As(err, &ne) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return unavailable()
	}
	return err
}

func unavailable() error {
	return &tokend.Error{Code: tokend.EUnavailable, Message: "The database is unavailable; try again later.", RetryAfter: tokend.RetryUnavailable}
}

func notFound(what string) error {
	return &tokend.Error{Code: tokend.ENotFound, Message: what + " not found."}
}

// Times are TIMESTAMPTZ, which keeps microseconds; the zero time is NULL.

func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.Truncate(time.Microsecond)
}

func fromTS(v pgtype.Timestamptz) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return v.Time.UTC()
}

// nullID stores a zero id as NULL.
func nullID[ID ~int64](id ID) any {
	if id == 0 {
		return nil
	}
	return int64(id)
}

// texts keeps a nil list out of NOT NULL array columns.
func texts(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// nilIfEmpty reads an empty list back as nil, as the other store does.
func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}
