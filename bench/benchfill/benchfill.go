// Package benchfill loads benchmark data sets in bulk: a few tokens whose strings the
// benchmark knows, and any number of filler tokens with random hashes, in one statement per
// store, so that a million rows take seconds. It writes the stores' tables directly and is
// for benchmarks only.
package benchfill

import (
	"context"
	"crypto/rand"
	"database/sql"
	"time"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"tokend"
)

// Known is a token whose string the benchmark knows, stored with its SHA-256.
type Known struct {
	Raw, UID string
	Hash     [32]byte
}

// SQLite stores known as PATs of the user and filler more tokens in the database file at path
// (already migrated), then refreshes the planner's statistics.
func SQLite(ctx context.Context, path string, accountID tokend.AccountID, userID tokend.UserID, known []Known, filler int) error {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer db.Close()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	now := time.Now().UnixMicro()
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO tokens (kind, account_id, user_id, created_by, uid, name, hash,
		state, created_at, updated_at) VALUES ('pat', ?, ?, ?, ?, 'bench', ?, 1, ?, ?)`)
	if err != nil {
		return err
	}
	for _, t := range known {
		if _, err := stmt.ExecContext(ctx, accountID, userID, userID, t.UID, t.Hash[:], now, now); err != nil {
			return err
		}
	}
	// One statement for the filler: a recursive CTE counts, randomblob makes the hashes.
	if filler > 0 { // the CTE's first row is there whatever the bound
		if _, err := tx.ExecContext(ctx, `
			WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
			INSERT INTO tokens (kind, account_id, user_id, created_by, uid, name, hash, state, created_at, updated_at)
			SELECT 'pat', ?, ?, ?, 'fill' || i, 'filler', randomblob(32), 1, ?, ? FROM n`,
			filler, accountID, userID, userID, now, now); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, `ANALYZE`)
	return err
}

// Postgres does what SQLite does in the database at url (already migrated).
func Postgres(ctx context.Context, url string, accountID tokend.AccountID, userID tokend.UserID, known []Known, filler int) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	uids := make([]string, len(known))
	hashes := make([][]byte, len(known))
	for i, t := range known {
		uids[i], hashes[i] = t.UID, t.Hash[:]
	}
	if _, err := conn.Exec(ctx, `
		INSERT INTO tokens (kind, account_id, user_id, created_by, uid, name, hash, state, created_at, updated_at)
		SELECT 'pat', $1, $2, $2, u, 'bench', h, 1, now(), now() FROM unnest($3::text[], $4::bytea[]) AS r (u, h)`,
		accountID, userID, uids, hashes); err != nil {
		return err
	}
	// One statement for the filler: generate_series counts, sha256 of a random salt and the row
	// number makes hashes as spread as real ones.
	if _, err := conn.Exec(ctx, `
		INSERT INTO tokens (kind, account_id, user_id, created_by, uid, name, hash, state, created_at, updated_at)
		SELECT 'pat', $1, $2, $2, 'fill' || i, 'filler', sha256(convert_to($3 || i, 'UTF8')), 1, now(), now()
		FROM generate_series(1, $4::int) AS i`,
		accountID, userID, rand.Text(), filler); err != nil {
		return err
	}
	_, err = conn.Exec(ctx, `ANALYZE tokens`)
	return err
}
