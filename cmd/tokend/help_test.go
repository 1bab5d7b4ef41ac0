package main

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// noJSON are the commands that print no data to script against: a server, the shell's
// completion scripts, help, session housekeeping and api (whose output is the API's JSON).
var noJSON = map[string]bool{
	"tokend serve": true, "tokend help": true, "tokend login": true, "tokend logout": true,
	"tokend api": true, "tokend completion": true, "tokend backup": true, "tokend restore": true,
}

// TestEveryCommandHelps walks the command tree: every command has an example in its help,
// and every command that prints data has --json.
func TestEveryCommandHelps(t *testing.T) {
	t.Parallel()
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		path := c.CommandPath()
		if strings.HasPrefix(path, "tokend completion ") || strings.HasPrefix(path, "tokend __") || path == "tokend help" {
			return
		}
		t.Run(path, func(t *testing.T) {
			if c.Example == "" {
				t.Errorf("%s: got no Example, want one in its --help", path)
			}
			if c.Runnable() && !c.HasSubCommands() && !noJSON[path] && c.Flags().Lookup("json") == nil {
				t.Errorf("%s: got no --json flag, want one on every command that prints data", path)
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRootCmd())
}
