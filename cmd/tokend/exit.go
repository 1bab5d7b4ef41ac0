package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// Exit codes, as docs/cli.md lists them. Scripts branch on these, so they only ever grow.
const (
	exitOK        = 0
	exitError     = 1 // anything else: the server refused the request, the database failed, …
	exitUsage     = 2 // an unknown command or flag, a missing or malformed argument
	exitCancelled = 3 // the user declined a confirmation, or interrupted
	exitAuth      = 4 // not logged in, or the server refused the token
)

// codedError is an error that asks for a particular exit code.
type codedError struct {
	code int
	err  error
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() error { return e.err }

func usageErrorf(format string, args ...any) error {
	return &codedError{exitUsage, fmt.Errorf(format, args...)}
}

func authError(err error) error { return &codedError{exitAuth, err} }

var errCancelled = &codedError{exitCancelled, errors.New("cancelled")}

// exitCode is the process's exit code for err.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var ce *codedError
	if errors.As(err, &ce) {
		return ce.code
	}
	return exitError
}

// strictCommands makes cobra's quiet cases loud: a command group given an unknown subcommand
// (cobra prints the help and exits 0), and a wrong number of arguments or an unknown flag,
// which become usage errors (exit 2).
func strictCommands(root *cobra.Command) {
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &codedError{exitUsage, fmt.Errorf("%w (see '%s --help')", err, c.CommandPath())}
	})
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.HasSubCommands() && !c.Runnable() {
			c.Args = cobra.ArbitraryArgs
			c.SuggestionsMinimumDistance = 2
			c.RunE = func(c *cobra.Command, args []string) error {
				if len(args) == 0 {
					return c.Help()
				}
				msg := fmt.Sprintf("unknown command %q for %q", args[0], c.CommandPath())
				if s := c.SuggestionsFor(args[0]); len(s) > 0 {
					msg += "\n\nDid you mean this?\n\t" + strings.Join(s, "\n\t")
				}
				return usageErrorf("%s\nSee '%s --help'.", msg, c.CommandPath())
			}
		} else if args := c.Args; args != nil {
			c.Args = func(c *cobra.Command, a []string) error {
				if err := args(c, a); err != nil {
					return usageErrorf("%w\nUsage: %s", err, c.UseLine())
				}
				return nil
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}
