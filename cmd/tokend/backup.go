package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"tokend/sqlite"
)

func newBackupCmd() *cobra.Command {
	var (
		sf     storageFlags
		output string
	)
	cmd := &cobra.Command{
		Use:   "backup --output FILE",
		Short: "Copy the SQLite database to a file while tokend keeps running",
		Long: `backup writes a consistent copy of the embedded SQLite database to FILE (mode 0600) with
VACUUM INTO: it reads one snapshot, so a running server keeps serving and writing meanwhile.
FILE must not exist. The copy holds token hashes, password hashes and the audit log: keep it
as safe as the database. Restore it with ` + "`tokend restore`" + `.

For PostgreSQL use pg_dump (see docs/operations.md); this command refuses a --database-url.`,
		Example: `  tokend backup --data-dir /var/lib/tokend --output /var/backups/tokend-$(date +%F).db`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
			}
			if output == "" {
				return usageErrorf("--output is required")
			}
			if sf.databaseURL != "" {
				return errors.New("backup copies the embedded SQLite database; for PostgreSQL use pg_dump (docs/operations.md)")
			}
			st, _, err := sf.open(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			if err := st.(*sqlite.Store).Backup(cmd.Context(), output); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Backed up %s to %s\n", sf.sqlitePath(), output)
			return nil
		},
	}
	sf.register(cmd.Flags())
	cmd.Flags().StringVarP(&output, "output", "o", "", "file to write the backup to; must not exist (required)")
	return cmd
}

func newRestoreCmd() *cobra.Command {
	var (
		sf    storageFlags
		force bool
	)
	cmd := &cobra.Command{
		Use:   "restore FILE",
		Short: "Replace the SQLite database with a backup",
		Long: `restore checks that FILE is an intact tokend SQLite database whose schema this binary
knows, then puts it in place of tokend.db under --data-dir. Stop the server first: restore
refuses while the database's -wal or -shm file exists (a server has it open) unless --force.
Tokens created and revoked after the backup was taken are lost; revoke again what was revoked
since.`,
		Example: `  systemctl stop tokend
  tokend restore --data-dir /var/lib/tokend /var/backups/tokend-2026-11-25.db
  systemctl start tokend`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
			}
			if sf.databaseURL != "" {
				return errors.New("restore replaces the embedded SQLite database; for PostgreSQL use pg_restore (docs/operations.md)")
			}
			if err := sqlite.Restore(cmd.Context(), args[0], sf.sqlitePath(), force); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Restored %s from %s\n", sf.sqlitePath(), args[0])
			return nil
		},
	}
	sf.register(cmd.Flags())
	cmd.Flags().BoolVar(&force, "force", false, "restore even though the database looks in use")
	return cmd
}
