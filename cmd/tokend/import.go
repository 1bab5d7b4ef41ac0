package main

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"tokend"
	"tokend/perm"
)

// importFile is the documented format of `tokend import-tokens` (docs/operations.md).
type importFile struct {
	Tokens []struct {
		AccountID   int64     `json:"account_id"`
		UID         string    `json:"uid"`
		Hash        string    `json:"hash"`
		Name        string    `json:"name"`
		CreatedAt   time.Time `json:"created_at"`
		Permissions []struct {
			PermissionSet                 string   `json:"permission_set"`
			ProjectID                     *int64   `json:"project_id"`
			WritableEnvironmentCategories []string `json:"writable_environment_categories"`
		} `json:"permissions"`
	} `json:"tokens"`
}

func newImportTokensCmd() *cobra.Command {
	var (
		sf     storageFlags
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "import-tokens FILE",
		Short: "Import old-format service tokens (uid, salted hash, name, grants) from a JSON file",
		Long: `import-tokens stores service tokens created by an older system. tokend never sees
their strings: it keeps the uid and the PBKDF2 hash (Django's pbkdf2_sha256 encoding), verifies
them through that slow hash, and upgrades each to the fast hash on its first successful use.
They show legacy_format: true (rotation recommended). The whole file is refused if one token is
wrong. See docs/operations.md for the format.`,
		Example: `  tokend import-tokens old-tokens.json --data-dir /var/lib/tokend
  tokend import-tokens old-tokens.json --database-url "$DATABASE_URL" --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
			}
			raw, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			var f importFile
			if err := json.Unmarshal(raw, &f); err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			in := make([]tokend.ImportedToken, len(f.Tokens))
			for i, t := range f.Tokens {
				it := tokend.ImportedToken{AccountID: tokend.AccountID(t.AccountID), UID: t.UID, SlowHash: t.Hash, Name: t.Name, CreatedAt: t.CreatedAt}
				for _, p := range t.Permissions {
					g := perm.Grant{Set: perm.Set(p.PermissionSet), AllProjects: p.ProjectID == nil,
						WritableEnvironmentCategories: p.WritableEnvironmentCategories}
					if p.ProjectID != nil {
						g.ProjectID = *p.ProjectID
					}
					it.Grants = append(it.Grants, g)
				}
				in[i] = it
			}
			st, _, err := sf.open(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			svc := tokend.NewService(st, tokend.Options{})
			out, err := svc.ImportServiceTokens(cmd.Context(), in)
			if err != nil {
				return operatorError(err)
			}
			if asJSON {
				type imported struct {
					ID          int64  `json:"id"`
					UID         string `json:"uid"`
					AccountID   int64  `json:"account_id"`
					Permissions int    `json:"permissions"`
				}
				list := make([]imported, len(out))
				for i, t := range out {
					list[i] = imported{int64(t.ID), t.UID, int64(t.AccountID), len(in[i].Grants)}
				}
				return writeJSONOut(cmd.OutOrStdout(), list)
			}
			for i, t := range out {
				fmt.Fprintf(cmd.OutOrStdout(), "imported service token %d (uid %s, account %d, %d permissions)\n",
					t.ID, t.UID, t.AccountID, len(in[i].Grants))
			}
			return nil
		},
	}
	sf.register(cmd.Flags())
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of a line per token")
	return cmd
}
