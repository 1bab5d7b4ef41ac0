// Package perm is tokend's permission model: which capabilities each dbt
// permission set grants, how a membership's license overrides them, which
// sets a service token may hold on each plan, and how a principal's grants
// combine into one answer per (resource, access, project).
//
// It is pure data and functions. The table in sets.go is the single source of
// docs/permissions.md; regenerate the document after any change:
//
//	go generate ./perm
package perm

//go:generate go run ./internal/gendocs -o ../docs/permissions.md
