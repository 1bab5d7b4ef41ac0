package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
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
		Short: "The account's token inventory, bulk revoke and least-privilege advice (administrators)",
		Example: `  tokend token list --unused-for 90d
  tokend token revoke 12 13 14
  tokend token advise 12`,
	}
	cmd.AddCommand(newTokenListCmd(), newTokenRevokeCmd(), newTokenAdviseCmd())
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
				id, err := parseID(a, listCommand(cmd))
				if err != nil {
					return err
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

func newTokenAdviseCmd() *cobra.Command {
	var (
		rf   remoteFlags
		days int
	)
	cmd := &cobra.Command{
		Use:   "advise ID",
		Short: "What a token used and the narrowest permissions that would still allow it",
		Long: "Prints what the token used over the window (--days, 30 by default) and, for a service token,\n" +
			"the narrowest permission sets that allow every observed use and what the token would lose;\n" +
			"for a personal access token, which of its user's powers it used and, when it looks like\n" +
			"automation, the service token that would do its job. Nothing is changed: apply the proposal\n" +
			"with the service token's permissions endpoint, or in the console.",
		Example: `  tokend token advise 12
  tokend token advise 12 --days 90 --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
			}
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id <= 0 {
				return usageErrorf("ID must be a positive integer, got %q", args[0])
			}
			ctx := cmd.Context()
			s, accountID, _, err := rf.target(ctx)
			if err != nil {
				return err
			}
			a, err := s.client.TokenAdvice(ctx, accountID, id, days)
			if err != nil {
				return s.explain(err)
			}
			out := cmd.OutOrStdout()
			if rf.asJSON {
				return writeJSONOut(out, a)
			}
			return printAdvice(out, accountID, a)
		},
	}
	rf.register(cmd.Flags())
	cmd.Flags().IntVar(&days, "days", 0, "how many days back to look (1-365; 30 by default)")
	return cmd
}

func printAdvice(w io.Writer, accountID int64, a *client.Advice) error {
	kind := "service token"
	if a.Kind == "pat" {
		kind = "personal access token"
	}
	fmt.Fprintf(w, "Token %d (%s), the last %d days (since %s).\n", a.TokenID, kind, a.Days, a.Since)
	if a.Kind == "service" {
		fmt.Fprintf(w, "Grants:   %s\n", orNone(grantList(a.Grants)))
	}
	if len(a.Used) == 0 {
		fmt.Fprintln(w, "Used:     nothing in the window.")
	} else {
		fmt.Fprintln(w, "Used:")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  PERMISSION\tPROJECT\tCOUNT\tLAST DAY")
		for _, u := range a.Used {
			fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\n", u.Permission, projectOrAll(u.ProjectID), u.Count, u.LastDay)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	switch {
	case a.Kind == "service":
		fmt.Fprintf(w, "Proposed: %s\n", orNone(grantList(a.Proposed)))
		printScoped(w, "Would lose", a.Loses)
		body, _ := json.Marshal(a.Proposed)
		fmt.Fprintf(w, "Apply: POST /api/v3/accounts/%d/service-tokens/%d/permissions/ with %s\n", accountID, a.TokenID, body)
	default:
		printScoped(w, "Unused powers", a.Unused)
		if a.Automation {
			fmt.Fprintf(w, "Used like automation: a service token with %s would do its job.\n", orNone(grantList(a.Proposed)))
		}
	}
	for _, u := range a.Uncovered {
		fmt.Fprintf(w, "Not covered by any permission set a service token may hold: %s in %s\n", u.Permission, projectOrAll(u.ProjectID))
	}
	return nil
}

func printScoped(w io.Writer, title string, ss []client.Scoped) {
	if len(ss) == 0 {
		fmt.Fprintf(w, "%s: nothing.\n", title)
		return
	}
	fmt.Fprintf(w, "%s:\n", title)
	for _, s := range ss {
		scope := "account"
		switch s.Scope {
		case "all_projects":
			scope = "all projects"
		case "project":
			scope = "project " + projectOrAll(s.ProjectID)
		}
		fmt.Fprintf(w, "  %s: %s\n", scope, strings.Join(s.Permissions, ", "))
	}
}

func projectOrAll(id *int64) string {
	if id == nil {
		return "account-wide"
	}
	return strconv.FormatInt(*id, 10)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
