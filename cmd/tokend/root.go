package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"tokend"
	"tokend/postgres"
	"tokend/sqlite"
)

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "tokend",
		Short:         "tokend is a self-hosted API-token service speaking dbt Cloud's API",
		SilenceUsage:  true,
		SilenceErrors: true,
		Long: `tokend is a self-hosted API-token service speaking dbt Cloud's API.

Operator commands (serve, init, migrate, backup, user set-password, …) work on the database
directly; client commands (login, pat, service-token, token, api, …) talk to a server with the
token that login keeps. Exit codes: 0 success, 1 error, 2 usage, 3 cancelled, 4 not logged in
or token refused (docs/cli.md).`,
		Example: `  tokend serve --data-dir ./tokend-data
  tokend login --url https://tokend.example.com
  tokend pat create --name laptop --expires-in 30d
  tokend api /api/v3/whoami/`,
	}
	root.AddCommand(newServeCmd(), newInitCmd(), newAccountCmd(), newMigrateCmd(), newVersionCmd(),
		newBackupCmd(), newRestoreCmd())
	root.AddCommand(newLoginCmd(), newLogoutCmd(), newWhoamiCmd(), newPATCmd(), newTrustPolicyCmd())
	root.AddCommand(newImportTokensCmd(), newLegacyKeysCmd())
	root.AddCommand(newUserCmd(), newPasswordCmd(), newServiceTokenCmd(), newTokenCmd(), newAuditCmd(), newAPICmd(), newWebhookCmd())
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			c.Example = `  source <(tokend completion bash)          # this shell
  tokend completion bash > /etc/bash_completion.d/tokend
  tokend completion zsh > "${fpath[1]}/_tokend"
  tokend completion fish > ~/.config/fish/completions/tokend.fish
Ids complete from the server: tokend pat delete <TAB> lists your tokens.`
		}
	}
	strictCommands(root)
	return root
}

// storageFlags select the database: SQLite under a data directory by default, PostgreSQL
// when a postgres:// URL is given.
type storageFlags struct {
	dataDir     string
	databaseURL string
}

func (f *storageFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.dataDir, "data-dir", "./tokend-data", "directory of the embedded SQLite database (tokend.db)")
	fs.StringVar(&f.databaseURL, "database-url", "", "PostgreSQL URL (postgres://…); empty selects SQLite")
}

// postgres reports whether the flags select PostgreSQL.
func (f *storageFlags) postgres() bool {
	return strings.HasPrefix(f.databaseURL, "postgres://") || strings.HasPrefix(f.databaseURL, "postgresql://")
}

// sqlitePath is the SQLite database file under the data directory.
func (f *storageFlags) sqlitePath() string { return filepath.Join(f.dataDir, "tokend.db") }

// open opens the store and applies pending migrations.
func (f *storageFlags) open(ctx context.Context) (tokend.Store, string, error) {
	u := f.databaseURL
	if f.postgres() {
		st, err := postgres.Open(ctx, u)
		return st, "postgres", err
	}
	if err := f.checkURL(); err != nil {
		return nil, "", err
	}
	if err := os.MkdirAll(f.dataDir, 0o700); err != nil {
		return nil, "", fmt.Errorf("data dir: %w", err)
	}
	st, err := sqlite.Open(ctx, f.sqlitePath())
	return st, "sqlite", err
}

// checkURL refuses a --database-url that is neither empty nor PostgreSQL's.
func (f *storageFlags) checkURL() error {
	if f.databaseURL != "" && !f.postgres() {
		return fmt.Errorf("--database-url must be a postgres:// URL, got scheme of %q", schemeOf(f.databaseURL))
	}
	return nil
}

// schemeOf names a URL's scheme without echoing the rest, which may hold a password.
func schemeOf(u string) string {
	scheme, _, ok := strings.Cut(u, "://")
	if !ok {
		return "(none)"
	}
	return scheme
}

// bindEnv lets every flag of cmd be set as TOKEND_<FLAG_NAME> (dashes to underscores); a flag
// given on the command line wins.
func bindEnv(cmd *cobra.Command) error {
	var firstErr error
	cmd.Flags().VisitAll(func(fl *pflag.Flag) {
		if fl.Changed || firstErr != nil {
			return
		}
		name := "TOKEND_" + strings.ToUpper(strings.ReplaceAll(fl.Name, "-", "_"))
		if v, ok := os.LookupEnv(name); ok {
			if err := cmd.Flags().Set(fl.Name, v); err != nil {
				firstErr = fmt.Errorf("%s: %w", name, err)
			}
		}
	})
	return firstErr
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format must be text or json, got %q", format)
}

// operatorError is what an operator's command says about err: a domain error's message as the
// API would give it, and anything else (a database down, a disk full) in full — unlike an API
// client, the operator of this machine should see the cause.
func operatorError(err error) error {
	var de *tokend.Error
	if errors.As(err, &de) && de.Code != tokend.EInternal {
		return errors.New(de.Message)
	}
	return err
}
