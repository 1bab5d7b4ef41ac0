package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"tokend"
	"tokend/postgres"
	"tokend/sqlite"
)

func newMigrateCmd() *cobra.Command {
	var (
		sf   storageFlags
		seal bool
	)
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply pending database migrations and exit",
		Long: `migrate applies the schema migrations this binary has and the database lacks, then exits.
serve does the same at start; run migrate first to upgrade in a step of its own. A database
already migrated by a newer tokend is refused: downgrade by restoring a backup.

--seal-untagged-tokens records that no node mints untagged tokens any more (the shape before
tags, 50 characters after the prefix), so that servers refuse an unknown one without waiting
for the change feed. Tokens of that shape that exist keep working. An SQLite database is sealed
by its migration; with PostgreSQL, run it once the last node of an older version is stopped
(docs/operations.md, Upgrades). It cannot be undone.`,
		Example: `  tokend migrate --data-dir /var/lib/tokend
  tokend migrate --database-url postgres://tokend@db/tokend
  tokend migrate --database-url postgres://tokend@db/tokend --seal-untagged-tokens
  tokend migrate status --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
			}
			st, kind, err := sf.open(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "%s database is up to date\n", kind)
			tags, err := st.TokenTags(cmd.Context())
			if err != nil {
				return err
			}
			switch {
			case tags.UntaggedSealed:
				fmt.Fprintln(w, "Untagged tokens are sealed: no node mints them.")
			case seal:
				if err := st.SealUntaggedTokens(cmd.Context()); err != nil {
					return err
				}
				fmt.Fprintln(w, "Untagged tokens sealed: servers refuse an unknown one without waiting for the change feed.")
			default:
				fmt.Fprintln(w, "Untagged tokens are not sealed: once no node of an older version runs, run `tokend migrate --seal-untagged-tokens`.")
			}
			return nil
		},
	}
	sf.register(cmd.Flags())
	cmd.Flags().BoolVar(&seal, "seal-untagged-tokens", false, "record that no node mints untagged tokens any more (after the last old node is gone)")
	cmd.AddCommand(newMigrateStatusCmd())
	return cmd
}

type migrationOut struct {
	Version   int64      `json:"version"`
	Name      string     `json:"name"`
	State     string     `json:"state"`
	AppliedAt *time.Time `json:"applied_at"`
}

func newMigrateStatusCmd() *cobra.Command {
	var (
		sf     storageFlags
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show which migrations the database has, applying none",
		Long: `status lists every migration this binary knows, applied or pending, and a version applied
by a newer tokend ("unknown"). It exits 1 when the database is newer than this binary.`,
		Example: `  tokend migrate status --data-dir /var/lib/tokend
  tokend migrate status --database-url "$DATABASE_URL" --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
			}
			var (
				ms  []tokend.Migration
				err error
			)
			if sf.postgres() {
				ms, err = postgres.Status(cmd.Context(), sf.databaseURL)
			} else if err = sf.checkURL(); err == nil {
				ms, err = sqlite.Status(cmd.Context(), sf.sqlitePath())
			}
			if err != nil {
				return err
			}
			var out []migrationOut
			pending, unknown := 0, int64(0)
			for _, m := range ms {
				o := migrationOut{Version: m.Version, Name: m.Name, State: "applied"}
				switch {
				case m.Name == "":
					o.State, o.Name, unknown = "unknown", "(applied by a newer tokend)", m.Version
				case m.AppliedAt.IsZero():
					o.State = "pending"
					pending++
				default:
					t := m.AppliedAt
					o.AppliedAt = &t
				}
				out = append(out, o)
			}
			w := cmd.OutOrStdout()
			if asJSON {
				if err := writeJSONOut(w, out); err != nil {
					return err
				}
			} else {
				tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "VERSION\tNAME\tSTATE\tAPPLIED")
				for _, o := range out {
					at := ""
					if o.AppliedAt != nil {
						at = when(*o.AppliedAt, "")
					}
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", o.Version, o.Name, o.State, at)
				}
				tw.Flush()
				switch {
				case unknown > 0:
				case pending > 0:
					fmt.Fprintf(w, "%d pending: run `tokend migrate` (or start serve) to apply them.\n", pending)
				default:
					fmt.Fprintln(w, "The database is up to date.")
				}
			}
			if unknown > 0 {
				return &tokend.SchemaNewerError{Database: unknown, Known: ms[len(ms)-2].Version}
			}
			return nil
		},
	}
	sf.register(cmd.Flags())
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of a table")
	return cmd
}
