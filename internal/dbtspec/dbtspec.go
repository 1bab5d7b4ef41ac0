// Package dbtspec finds dbt Cloud's OpenAPI documents for the compatibility tests.
package dbtspec

import (
	"os"
	"path/filepath"
	"testing"
)

// EnvDir overrides where the documents are looked for.
const EnvDir = "TOKEND_DBT_OPENAPI_DIR"

// rel is where the documents sit relative to a directory above the checkout.
var rel = filepath.Join("shared", "reference", "dbt-openapi")

// Path returns the path of dbt's OpenAPI document name ("openapi-v2.yaml" or
// "openapi-v3.yaml"). The documents live in ../shared/reference/dbt-openapi/ beside the
// checkout (CI puts them there); a checkout nested deeper (a worktree) finds them further up;
// $TOKEND_DBT_OPENAPI_DIR overrides both. A missing document fails tb, in CI and out of it:
// the compatibility tests prove nothing without it, so a run must not pass quietly instead.
func Path(tb testing.TB, name string) string {
	tb.Helper()
	if dir := os.Getenv(EnvDir); dir != "" {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err != nil {
			tb.Fatalf("dbt's OpenAPI document %s is missing from $%s: %v", name, EnvDir, err)
		}
		return p
	}
	root, err := moduleRoot()
	if err != nil {
		tb.Fatalf("find the checkout to locate dbt's OpenAPI documents: %v", err)
	}
	var tried []string
	for dir := filepath.Dir(root); ; dir = filepath.Dir(dir) {
		p := filepath.Join(dir, rel, name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		tried = append(tried, p)
		if parent := filepath.Dir(dir); parent == dir {
			break
		}
	}
	tb.Fatalf("dbt's OpenAPI document %s was not found (looked at %v). The compatibility tests need "+
		"dbt's documents in ../shared/reference/dbt-openapi/ beside the checkout, or $%s naming their "+
		"directory; they fail rather than skip, since a run without them checks nothing.", name, tried, EnvDir)
	return ""
}

// moduleRoot is the nearest directory above the working directory holding go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}
