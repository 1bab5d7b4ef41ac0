package perm_test

import (
	"bytes"
	"os"
	"testing"

	"tokend/perm/internal/permdoc"
)

func TestPermissionsDocUpToDate(t *testing.T) {
	got, err := os.ReadFile("../" + permdoc.Path)
	if err != nil {
		t.Fatalf("reading %s: %v (run go generate ./perm)", permdoc.Path, err)
	}
	if want := permdoc.Render(); !bytes.Equal(got, want) {
		t.Fatalf("docs/permissions.md is stale: run go generate ./perm")
	}
}
