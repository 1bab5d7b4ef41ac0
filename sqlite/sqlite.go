// Package sqlite is tokend's embedded store: one SQLite file in WAL mode, through the pure-Go
// modernc.org/sqlite driver. All writes go through one connection, reads through a small pool.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
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
	// Prepared statements of each pool, shared with the Stores handed to Tx callbacks.
	ws, rs *stmtCache
	// rq and wq run reads and writes through them (on tx when set).
	rq, wq querier
}

func newStore(w, r *sql.DB, tx *sql.Tx, ws, rs *stmtCache) *Store {
	s := &Store{w: w, r: r, tx: tx, ws: ws, rs: rs, wq: prepared{c: ws, tx: tx}}
	s.rq = prepared{c: rs}
	if tx != nil {
		s.rq = s.wq
	}
	return s
}

var _ tokend.Store = (*Store)(nil)

// querier runs the store's queries (see prepared).
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) row
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
	return newStore(w, r, nil, newStmtCache(w), newStmtCache(r)), nil
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
	if err := checkSchema(ctx, p); err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	return nil
}

// checkSchema refuses a database migrated past what this binary knows: goose alone would
// find nothing to apply and carry on.
func checkSchema(ctx context.Context, p *goose.Provider) error {
	db, err := p.GetDBVersion(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: schema version: %w", err)
	}
	if known := knownVersion(p); db > known {
		return &tokend.SchemaNewerError{Database: db, Known: known}
	}
	return nil
}

func knownVersion(p *goose.Provider) int64 {
	src := p.ListSources()
	return src[len(src)-1].Version
}

// Status reports the migrations of the database at path, applying none. A missing file has
// every migration pending (and is not created); a version applied by a newer binary is listed
// without a name.
func Status(ctx context.Context, path string) ([]tokend.Migration, error) {
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)"
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		dsn = "file::memory:"
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	p, err := goose.NewProvider(goose.DialectSQLite3, db, mustSub(migrations, "migrations"))
	if err != nil {
		return nil, fmt.Errorf("sqlite: migrations: %w", err)
	}
	return schemaStatus(ctx, p)
}

// schemaStatus merges the migrations this binary knows with the highest version applied.
func schemaStatus(ctx context.Context, p *goose.Provider) ([]tokend.Migration, error) {
	st, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: migration status: %w", err)
	}
	var out []tokend.Migration
	for _, m := range st {
		mig := tokend.Migration{Version: m.Source.Version, Name: path.Base(m.Source.Path)}
		if m.State == goose.StateApplied {
			mig.AppliedAt = m.AppliedAt.UTC()
		}
		out = append(out, mig)
	}
	db, err := p.GetDBVersion(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: schema version: %w", err)
	}
	if db > knownVersion(p) {
		out = append(out, tokend.Migration{Version: db})
	}
	return out, nil
}

// Close closes the database.
func (s *Store) Close() error {
	s.rs.close()
	s.ws.close()
	return errors.Join(s.r.Close(), s.w.Close())
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if s.rs.closed.Load() {
		return errClosed()
	}
	return s.r.PingContext(ctx)
}

// Tx runs fn in an IMMEDIATE transaction on the writer connection.
func (s *Store) Tx(ctx context.Context, fn func(tokend.Store) error) (err error) {
	if s.tx != nil {
		return fn(s) // already in one: join it
	}
	if s.ws.closed.Load() {
		return errClosed()
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return translate(err)
	}
	// Statements first seen in the transaction are prepared once the writer is free again
	// (deferred first, so that it runs after the rollback of a panic).
	defer s.ws.preparePending(context.WithoutCancel(ctx))
	defer func() {
		if p := recover(); p != nil {
			tx.Rollback()
			panic(p)
		}
	}()
	if err := fn(newStore(s.w, s.r, tx, s.ws, s.rs)); err != nil {
		tx.Rollback()
		return err
	}
	return translate(tx.Commit())
}

// reader returns the handle for a read: the transaction when in one, else the reader pool.
func (s *Store) reader() querier { return s.rq }

// writer returns the handle for a write.
func (s *Store) writer() querier { return s.wq }

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
			return &tokend.Error{Code: tokend.EUnavailable, Message: "The database is busy; try again.", RetryAfter: tokend.RetryBusy}
		}
		// The file cannot be read or written (a failed disk, a full one, a volume gone): by
		// primary result code, whatever the extended one.
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_FULL:
			return &tokend.Error{Code: tokend.EUnavailable, Message: "The database is unavailable; try again later.",
				RetryAfter: tokend.RetryUnavailable}
		}
	}
	return err
}

// errClosed is the error of a query on a closed store: the database is unavailable to it.
func errClosed() error {
	return &tokend.Error{Code: tokend.EUnavailable, Message: "The database is unavailable; try again later.",
		RetryAfter: tokend.RetryUnavailable}
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

// nullID stores a zero id as NULL.
func nullID[ID ~int64](id ID) any {
	if id == 0 {
		return nil
	}
	return int64(id)
}

func page(p tokend.Page) (limit, offset int) {
	p = p.Normalize()
	return p.Limit, p.Offset
}

// Backup writes a consistent copy of the database to dst, which must not exist, while others
// keep reading and writing: VACUUM INTO reads one snapshot and writes a compact new file.
func (s *Store) Backup(ctx context.Context, dst string) error {
	if _, err := os.Lstat(dst); err == nil {
		return fmt.Errorf("sqlite: backup: %s already exists", dst)
	}
	if _, err := s.w.ExecContext(ctx, `VACUUM INTO ?`, dst); err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	return os.Chmod(dst, 0o600)
}

// Restore replaces the database at path with the backup at src, after checking that src is an
// intact SQLite database whose schema this binary knows. No server may be using path: the
// caller stops it first (a leftover -wal or -shm file is taken as a sign that one runs).
func Restore(ctx context.Context, src, path string, force bool) error {
	if !force {
		for _, ext := range []string{"-wal", "-shm"} {
			if _, err := os.Stat(path + ext); err == nil {
				return fmt.Errorf("sqlite: restore: %s%s exists: stop the server using %s first (or force)", path, ext, path)
			}
		}
	}
	if err := checkBackup(ctx, src); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("sqlite: restore: %w", err)
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("sqlite: restore: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".restore-*.db")
	if err != nil {
		return fmt.Errorf("sqlite: restore: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("sqlite: restore: %w", err)
	}
	if _, err := io.Copy(tmp, in); err != nil {
		tmp.Close()
		return fmt.Errorf("sqlite: restore: %w", err)
	}
	if err := errors.Join(tmp.Sync(), tmp.Close()); err != nil {
		return fmt.Errorf("sqlite: restore: %w", err)
	}
	// The old database's journal must not be replayed onto the restored file.
	for _, ext := range []string{"-wal", "-shm"} {
		if err := os.Remove(path + ext); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("sqlite: restore: %w", err)
		}
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("sqlite: restore: %w", err)
	}
	return nil
}

// checkBackup opens src read-only and checks its integrity and schema version.
func checkBackup(ctx context.Context, src string) error {
	if _, err := os.Stat(src); err != nil {
		return fmt.Errorf("sqlite: restore: %w", err)
	}
	db, err := sql.Open("sqlite", "file:"+src+"?mode=ro")
	if err != nil {
		return fmt.Errorf("sqlite: restore: %w", err)
	}
	defer db.Close()
	var res string
	if err := db.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&res); err != nil {
		return fmt.Errorf("sqlite: restore: %s is not a readable SQLite database: %w", src, err)
	}
	if res != "ok" {
		return fmt.Errorf("sqlite: restore: %s fails the integrity check: %s", src, res)
	}
	var dbv int64
	if err := db.QueryRowContext(ctx, `SELECT coalesce(max(version_id), -1) FROM goose_db_version WHERE is_applied`).Scan(&dbv); err != nil {
		return fmt.Errorf("sqlite: restore: %s is not a tokend database", src)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, mustSub(migrations, "migrations"))
	if err != nil {
		return fmt.Errorf("sqlite: migrations: %w", err)
	}
	if known := knownVersion(p); dbv > known {
		return &tokend.SchemaNewerError{Database: dbv, Known: known}
	}
	return nil
}
