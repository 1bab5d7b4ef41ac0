// Command gendocs writes docs/permissions.md from package perm. It runs from
// "go generate ./perm":
//
//	go run ./internal/gendocs -o ../docs/permissions.md
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"tokend/perm/internal/permdoc"
)

func main() {
	out := flag.String("o", "", "file to write (default: standard output)")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	doc := permdoc.Render()
	if out == "" {
		_, err := os.Stdout.Write(doc)
		return err
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	return os.WriteFile(out, doc, 0o644)
}
