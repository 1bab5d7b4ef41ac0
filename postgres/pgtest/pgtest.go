// Package pgtest gives tests a PostgreSQL schema of their own on the test server.
//
// The server is TOKEND_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test).
// When it cannot be reached, a test is skipped with a message saying so — unless CI or
// TOKEND_REQUIRE_POSTGRES=1 is set, where it fails: a CI run that silently skipped the
// PostgreSQL half would prove nothing.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// ServerURL is the test server's URL.
func ServerURL() string {
	if u := os.Getenv("TOKEND_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// Redacted hides a password in u, for messages.
func Redacted(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(unparsable URL)"
	}
	return p.Redacted()
}

// Conn connects to the test database, or skips or fails tb as described in the package doc.
func Conn(tb testing.TB) *pgx.Conn {
	tb.Helper()
	conn, err := connect()
	if err != nil {
		if os.Getenv("CI") != "" || os.Getenv("TOKEND_REQUIRE_POSTGRES") == "1" {
			tb.Fatalf("PostgreSQL not reachable at %s (set TOKEND_TEST_POSTGRES_URL): %v", Redacted(ServerURL()), err)
		}
		tb.Skipf("PostgreSQL not reachable at %s; skipping the PostgreSQL half (set TOKEND_TEST_POSTGRES_URL, "+
			"or CI / TOKEND_REQUIRE_POSTGRES=1 to fail instead): %v", Redacted(ServerURL()), err)
	}
	return conn
}

func connect() (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, ServerURL())
	if err == nil {
		if err = conn.Ping(ctx); err != nil {
			conn.Close(ctx)
		}
	}
	return conn, err
}

// TrySchemaURL is SchemaURL for a test that also runs without PostgreSQL: where the server is
// not reachable outside CI, it logs so and returns ok false instead of skipping tb.
func TrySchemaURL(tb testing.TB) (u string, ok bool) {
	tb.Helper()
	conn, err := connect()
	if err != nil {
		if os.Getenv("CI") != "" || os.Getenv("TOKEND_REQUIRE_POSTGRES") == "1" {
			tb.Fatalf("PostgreSQL not reachable at %s (set TOKEND_TEST_POSTGRES_URL): %v", Redacted(ServerURL()), err)
		}
		tb.Logf("PostgreSQL not reachable at %s; skipping the PostgreSQL half: %v", Redacted(ServerURL()), err)
		return "", false
	}
	conn.Close(context.Background())
	return SchemaURL(tb), true
}

// SchemaURL creates an empty schema, dropped when tb ends, and returns the URL of the test
// database with search_path set to it.
func SchemaURL(tb testing.TB) string {
	tb.Helper()
	conn := Conn(tb)
	ctx := context.Background()
	defer conn.Close(ctx)
	schema := "tokend_test_" + randomHex(8)
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		conn := Conn(tb)
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(ServerURL())
	if err != nil {
		tb.Fatalf("TOKEND_TEST_POSTGRES_URL: %v", err)
	}
	q := u.Query()
	// pgx passes parameters it does not know as RuntimeParams; application_name lets a test find
	// its own connections in pg_stat_activity.
	q.Set("search_path", schema)
	q.Set("application_name", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Offsets is where each table's ids start in a test schema (the first row gets offset+1), so
// that the first account, user, token, group and project never share an id and a test that
// passes one kind's id where another is expected fails instead of passing by coincidence. The
// same offsets apply to SQLite test stores (sqlitetest.Offsets).
var Offsets = map[string]int64{
	"accounts":       1000,
	"users":          2000,
	"tokens":         3000,
	"account_groups": 4000,
	"projects":       5000,
}

// OffsetIDs starts the id sequences of the migrated schema at u (a SchemaURL) at Offsets.
func OffsetIDs(tb testing.TB, u string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		tb.Fatalf("offset ids: %v", err)
	}
	defer conn.Close(ctx)
	for table, off := range Offsets {
		if _, err := conn.Exec(ctx, fmt.Sprintf(`ALTER TABLE %s ALTER COLUMN id RESTART WITH %d`, table, off+1)); err != nil {
			tb.Fatalf("offset %s ids: %v", table, err)
		}
	}
}
