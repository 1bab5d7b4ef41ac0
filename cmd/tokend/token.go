package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"tokend/client"
)

// The token commands are an administrator's view of every token of the account (the
// inventory) and its bulk revoke; they need the account's service-token permissions.

func newTokenCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "The account's token inventory and bulk revoke (administrators)",
		Example: `  tokend token list --unused-for 90d
  tokend token revoke 12 13 14`,
	}
	cmd.AddCommand(newTokenListCmd(), newTokenRevokeCmd())
	return cmd
}

func newTokenListCmd() *cobra.Command {
	var (
		rf                   remoteFlags
		kind, state          string
		userID               int64
		unusedFor, expiresIn durationValue
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the account's tokens: personal access tokens or service tokens, with filters",
		Long: `list shows every token of a kind in the account, whoever holds it: --kind pat (the default)
or service. --unused-for 90d keeps those not used in 90 days (never-used ones included);
--expires-in 30d those that expire within 30 days; --user one person's.`,
		Example: `  tokend token list
  tokend token list --kind service --unused-for 90d
  tokend token list --user 42 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
			}
			if kind != "pat" && kind != "service" {
				return usageErrorf("--kind must be pat or service, got %q", kind)
			}
			lo, err := stateOption(state)
			if err != nil {
				return err
			}
			now := time.Now()
			o := client.InventoryOptions{ListOptions: lo, Kind: kind, UserID: userID}
			if unusedFor > 0 {
				o.LastUsedBefore = now.Add(-time.Duration(unusedFor))
			}
			if expiresIn > 0 {
				o.ExpiresBefore = now.Add(time.Duration(expiresIn))
			}
			ctx := cmd.Context()
			s, accountID, _, err := rf.target(ctx)
			if err != nil {
				return err
			}
			all := []client.InventoryToken{}
			for {
				ts, page, err := s.client.Inventory(ctx, accountID, o)
				if err != nil {
					return s.explain(err)
				}
				all = append(all, ts...)
				var more bool
				if o.ListOptions, more = page.Next(o.ListOptions); !more {
					break
				}
			}
			out := cmd.OutOrStdout()
			if rf.asJSON {
				return writeJSONOut(out, all)
			}
			if len(all) == 0 {
				fmt.Fprintln(out, "No tokens match.")
				return nil
			}
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tUID\tNAME\tUSER\tSTATE\tEXPIRES\tLAST USED")
			for _, t := range all {
				user := "-"
				if t.UserID != 0 {
					user = fmt.Sprint(t.UserID)
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.UID, t.Name, user, t.State,
					when(t.ExpiresAt, "never"), when(t.LastUsed, "never"))
			}
			return tw.Flush()
		},
	}
	rf.register(cmd.Flags())
	f := cmd.Flags()
	f.StringVar(&kind, "kind", "pat", "pat or service")
	f.StringVar(&state, "state", "active", "which tokens: active, deleted or all")
	f.Int64Var(&userID, "user", 0, "only this user's tokens (personal access tokens)")
	f.Var(&unusedFor, "unused-for", "only tokens not used for this long, e.g. 90d (never-used ones too)")
	f.Var(&expiresIn, "expires-in", "only tokens that expire within this long, e.g. 30d")
	_ = cmd.RegisterFlagCompletionFunc("kind", cobra.FixedCompletions([]cobra.Completion{"pat", "service"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("state", cobra.FixedCompletions([]cobra.Completion{"active", "deleted", "all"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func newTokenRevokeCmd() *cobra.Command {
	var (
		rf  remoteFlags
		yes bool
	)
	cmd := &cobra.Command{
		Use:   "revoke ID...",
		Short: "Revoke several tokens of the account at once, all or none",
		Long: `revoke deletes the tokens with the given ids — personal access tokens of anyone in the
account, and service tokens — in one step: if one cannot be revoked, none is. It asks first,
unless --yes. Ids come from ` + "`tokend token list`" + `.`,
		Example: `  tokend token revoke 12 13 14
  tokend token list --unused-for 180d --json | jq -r '.[].id' | xargs tokend token revoke --yes`,
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: completeTokenIDs(&rf),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
			}
			var ids []int64
			for _, a := range args {
				id, err := parseID(a)
				if err != nil {
					return usageErrorf("%v", err)
				}
				ids = append(ids, id)
			}
			ctx := cmd.Context()
			s, accountID, _, err := rf.target(ctx)
			if err != nil {
				return err
			}
			if !yes {
				// Ask only once the server has said who we are.
				if _, err := s.client.Whoami(ctx); err != nil {
					return s.explain(err)
				}
				if err := confirm(cmd, fmt.Sprintf("Revoke %d token(s) (%s) in account %d? Whatever uses them stops working.",
					len(ids), strings.Join(args, ", "), accountID)); err != nil {
					return err
				}
			}
			revoked, err := s.client.RevokeTokens(ctx, accountID, ids)
			if err != nil {
				return fmt.Errorf("revoke: %w", s.explain(err))
			}
			for _, id := range ids {
				if s.isOwn(id) {
					s.cfg.forgetToken()
					if err := saveConfig(s.cfgPath, s.cfg); err != nil {
						return err
					}
				}
			}
			out := cmd.OutOrStdout()
			if rf.asJSON {
				return writeJSONOut(out, revoked)
			}
			for _, t := range revoked {
				fmt.Fprintf(out, "Revoked %d %q (uid %s).\n", t.ID, t.Name, t.UID)
			}
			return nil
		},
	}
	rf.register(cmd.Flags())
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "revoke without asking")
	return cmd
}
