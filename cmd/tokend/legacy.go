package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"tokend"
	"tokend/httpapi"
)

func newLegacyKeysCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "legacy-keys", Short: "Retired user API keys: where they are still used",
		Example: "  tokend legacy-keys report --account 1 --data-dir /var/lib/tokend"}
	var (
		sf        storageFlags
		accountID int64
		asJSON    bool
	)
	report := &cobra.Command{
		Use:   "report",
		Short: "List, per user, every place their legacy API key is still used, with its replacement",
		Long: `report reads the database directly (no token needed) and lists, for one account, each
user whose legacy API key was used during a migration window: every route, client address and
user agent, how often and when last, and what to replace the key with there — a personal access
token where the call acts as a user, otherwise a service token with the narrowest permission set
that covers everything the key was used for.`,
		Example: `  tokend legacy-keys report --account 1 --data-dir /var/lib/tokend
  tokend legacy-keys report --account 1 --database-url "$DATABASE_URL" --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
			}
			st, _, err := sf.open(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			svc := tokend.NewService(st, tokend.Options{})
			rep, err := svc.LegacyUsageReport(cmd.Context(), tokend.AccountID(accountID), httpapi.RouteNeeds())
			if err != nil {
				return operatorError(err)
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return json.NewEncoder(out).Encode(httpapi.LegacyReportJSON(rep))
			}
			if len(rep.Users) == 0 {
				fmt.Fprintf(out, "No legacy API key has been used in account %d.\n", accountID)
				return nil
			}
			for _, u := range rep.Users {
				fmt.Fprintf(out, "%s (user %d): replace with %s\n", u.Email, u.UserID, describe(u.Suggestion))
				tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "  ROUTE\tCLIENT\tUSER AGENT\tCOUNT\tLAST SEEN\tSTATUS\tREPLACE WITH")
				for _, p := range u.Uses {
					fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\t%s\t%d\t%s\n", p.Route, p.IP, p.UserAgent, p.Count,
						p.LastSeen.UTC().Format("2006-01-02 15:04:05Z"), p.LastStatus, describe(p.Suggestion))
				}
				tw.Flush()
			}
			return nil
		},
	}
	sf.register(report.Flags())
	report.Flags().Int64Var(&accountID, "account", 0, "account id (required)")
	report.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	_ = report.MarkFlagRequired("account")
	cmd.AddCommand(report)
	return cmd
}

func describe(s tokend.Suggestion) string {
	if s.Kind == tokend.KindPAT {
		return "a personal access token"
	}
	if s.PermissionSet == "" {
		return "service tokens (" + s.Reason + ")"
	}
	return "a service token with " + string(s.PermissionSet)
}
