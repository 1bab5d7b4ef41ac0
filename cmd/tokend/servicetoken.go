package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"tokend/client"
	"tokend/perm"
)

// The service-token commands manage the account's service tokens (the token used needs the
// account's service-token permissions).

func newServiceTokenCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "service-token",
		Aliases: []string{"st"},
		Short:   "List, create, rotate and delete the account's service tokens",
		Example: `  tokend service-token create --name ci --grant job_admin --grant developer:12
  tokend service-token list
  tokend st rotate 7 --overlap 1h`,
	}
	cmd.AddCommand(newSTListCmd(), newSTCreateCmd(), newSTPermissionsCmd(), newSTRotateCmd(), newSTDeleteCmd())
	return cmd
}

// grantFlags is --grant SET[:PROJECT_ID], repeated.
type grantFlags []string

func (g *grantFlags) parse() ([]client.Grant, error) {
	var out []client.Grant
	for _, v := range *g {
		set, project, hasProject := strings.Cut(v, ":")
		if !perm.Set(set).Valid() {
			return nil, usageErrorf("--grant %q: %q is not a permission set; want one of %s", v, set, setNames())
		}
		gr := client.Grant{PermissionSet: set, AllProjects: !hasProject}
		if hasProject {
			id, err := strconv.ParseInt(project, 10, 64)
			if err != nil || id <= 0 {
				return nil, usageErrorf("--grant %q: the project after ':' must be a positive id", v)
			}
			gr.ProjectID = &id
		}
		out = append(out, gr)
	}
	return out, nil
}

func setNames() string {
	var names []string
	for _, s := range perm.Sets() {
		names = append(names, string(s))
	}
	return strings.Join(names, ", ")
}

func registerGrants(cmd *cobra.Command, g *grantFlags, usage string) {
	cmd.Flags().StringArrayVar((*[]string)(g), "grant", nil, usage)
	_ = cmd.RegisterFlagCompletionFunc("grant", func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		var out []cobra.Completion
		for _, s := range perm.Sets() {
			out = append(out, cobra.CompletionWithDesc(string(s), s.Label()))
		}
		return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
	})
}

func describeGrants(gs []client.Grant) string {
	if len(gs) == 0 {
		return "(none)"
	}
	var parts []string
	for _, g := range gs {
		where := "all projects"
		if g.ProjectID != nil {
			where = "project " + strconv.FormatInt(*g.ProjectID, 10)
		}
		parts = append(parts, g.PermissionSet+" on "+where)
	}
	return strings.Join(parts, ", ")
}

func newSTListCmd() *cobra.Command {
	var (
		rf    remoteFlags
		state string
	)
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List the account's service tokens",
		Example: "  tokend service-token list\n  tokend service-token list --state all --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
			}
			o, err := stateOption(state)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			s, accountID, _, err := rf.target(ctx)
			if err != nil {
				return err
			}
			all, err := listAll(o, func(o client.ListOptions) ([]client.ServiceToken, client.Page, error) {
				return s.client.ListServiceTokens(ctx, accountID, o)
			})
			if err != nil {
				return s.explain(err)
			}
			out := cmd.OutOrStdout()
			if rf.asJSON {
				return writeJSONOut(out, all)
			}
			if len(all) == 0 {
				fmt.Fprintln(out, "No service tokens.")
				return nil
			}
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tUID\tNAME\tSTATE\tPERMISSIONS\tLAST USED")
			for _, t := range all {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.UID, t.Name, t.State, describeGrants(t.PermissionGrants), when(t.LastUsed, "never"))
			}
			return tw.Flush()
		},
	}
	rf.register(cmd.Flags())
	cmd.Flags().StringVar(&state, "state", "active", "which tokens: active, deleted or all")
	return cmd
}

// stateOption reads --state.
func stateOption(state string) (client.ListOptions, error) {
	switch state {
	case "active":
		return client.ListOptions{State: client.StateActive}, nil
	case "deleted":
		return client.ListOptions{State: client.StateDeleted}, nil
	case "all":
		return client.ListOptions{}, nil
	}
	return client.ListOptions{}, usageErrorf("--state must be active, deleted or all, got %q", state)
}

func newSTCreateCmd() *cobra.Command {
	var (
		rf     remoteFlags
		name   string
		grants grantFlags
	)
	cmd := &cobra.Command{
		Use:   "create --name NAME --grant SET[:PROJECT_ID]...",
		Short: "Create a service token with permission sets; it is shown only once",
		Long: `create makes a service token of the account with the permission sets given by --grant:
SET on all projects, or SET:PROJECT_ID on one project. The sets are dbt's (job_admin,
developer, readonly, …; see docs/permissions.md); you can grant only what you hold.`,
		Example: `  tokend service-token create --name ci --grant job_admin
  tokend service-token create --name dashboards --grant readonly:12 --grant readonly:13 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
			}
			if name == "" {
				return usageErrorf("--name is required")
			}
			gs, err := grants.parse()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			s, accountID, _, err := rf.target(ctx)
			if err != nil {
				return err
			}
			t, err := s.client.CreateServiceToken(ctx, accountID, client.ServiceTokenRequest{Name: name, PermissionGrants: gs})
			if err != nil {
				return s.explain(err)
			}
			out := cmd.OutOrStdout()
			if rf.asJSON {
				return writeJSONOut(out, t)
			}
			fmt.Fprintf(out, "Created service token %d %q (uid %s): %s.\n", t.ID, t.Name, t.UID, describeGrants(t.PermissionGrants))
			printTokenOnce(out, t.TokenString)
			return nil
		},
	}
	rf.register(cmd.Flags())
	cmd.Flags().StringVar(&name, "name", "", "name of the token (required)")
	registerGrants(cmd, &grants, "permission set, on all projects or SET:PROJECT_ID (repeat for more)")
	return cmd
}

func newSTPermissionsCmd() *cobra.Command {
	var (
		rf     remoteFlags
		grants grantFlags
		clear  bool
	)
	cmd := &cobra.Command{
		Use:   "permissions ID [--grant SET[:PROJECT_ID]]...",
		Short: "Show a service token's permission sets, or replace them",
		Long: `permissions shows what a service token may do. With --grant it replaces the token's permission
sets with those given (the token keeps its string); --clear removes them all.`,
		Example: `  tokend service-token permissions 7
  tokend service-token permissions 7 --grant job_runner --grant readonly:12`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeServiceTokenIDs(&rf),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
			}
			id, err := parseID(args[0], listCommand(cmd))
			if err != nil {
				return err
			}
			gs, err := grants.parse()
			if err != nil {
				return err
			}
			if clear && len(gs) > 0 {
				return usageErrorf("give --grant or --clear, not both")
			}
			ctx := cmd.Context()
			s, accountID, _, err := rf.target(ctx)
			if err != nil {
				return err
			}
			var got []client.Grant
			if len(gs) > 0 || clear {
				got, err = s.client.SetServiceTokenPermissions(ctx, accountID, id, gs)
			} else {
				got, err = s.client.ServiceTokenPermissions(ctx, accountID, id)
			}
			if err != nil {
				return fmt.Errorf("service token %d: %w", id, s.explain(err))
			}
			out := cmd.OutOrStdout()
			if rf.asJSON {
				if got == nil {
					got = []client.Grant{}
				}
				return writeJSONOut(out, got)
			}
			printGrants(out, got)
			return nil
		},
	}
	rf.register(cmd.Flags())
	registerGrants(cmd, &grants, "permission set to grant instead of the current ones, SET or SET:PROJECT_ID (repeat for more)")
	cmd.Flags().BoolVar(&clear, "clear", false, "remove every permission set")
	return cmd
}

func printGrants(w io.Writer, gs []client.Grant) {
	if len(gs) == 0 {
		fmt.Fprintln(w, "No permission sets: the token can do nothing.")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PERMISSION SET\tPROJECTS\tGRANTS")
	for _, g := range gs {
		where := "all"
		if g.ProjectID != nil {
			where = strconv.FormatInt(*g.ProjectID, 10)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", g.PermissionSet, where, perm.Set(g.PermissionSet).Label())
	}
	tw.Flush()
}

func newSTRotateCmd() *cobra.Command {
	var (
		rf      remoteFlags
		overlap durationValue
	)
	cmd := &cobra.Command{
		Use:   "rotate ID",
		Short: "Replace a service token with a new one; the new token is shown only once",
		Long: `rotate creates a new service token with the same name and permission sets and retires the
old one: at once, or after --overlap so that whatever uses it can be switched over.`,
		Example:           "  tokend service-token rotate 7\n  tokend service-token rotate 7 --overlap 1h --json",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeServiceTokenIDs(&rf),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, accountID, _, id, err := rf.targetID(cmd, args[0])
			if err != nil {
				return err
			}
			t, err := s.client.RotateServiceToken(ctx, accountID, id, time.Duration(overlap))
			if err != nil {
				return fmt.Errorf("rotate service token %d: %w", id, s.explain(err))
			}
			out := cmd.OutOrStdout()
			if rf.asJSON {
				return writeJSONOut(out, t)
			}
			stops := "now"
			if overlap > 0 {
				stops = "at " + when(time.Now().Add(time.Duration(overlap)), "")
			}
			fmt.Fprintf(out, "Rotated service token %d %q: the new one is %d (uid %s); the old one stops working %s.\n",
				id, t.Name, t.ID, t.UID, stops)
			printTokenOnce(out, t.TokenString)
			return nil
		},
	}
	rf.register(cmd.Flags())
	cmd.Flags().Var(&overlap, "overlap", "keep the old token working this long, e.g. 10m or 1d (at most 7d)")
	return cmd
}

func newSTDeleteCmd() *cobra.Command {
	var (
		rf  remoteFlags
		yes bool
	)
	cmd := &cobra.Command{
		Use:               "delete ID",
		Short:             "Delete (revoke) a service token at once",
		Long:              "delete revokes a service token: whatever uses it fails from the next request. It asks first, unless --yes.",
		Example:           "  tokend service-token delete 7\n  tokend service-token delete 7 --yes",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeServiceTokenIDs(&rf),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, accountID, _, id, err := rf.targetID(cmd, args[0])
			if err != nil {
				return err
			}
			// Look first: the server answers, the token exists, and the question can name it.
			t, err := s.client.ServiceToken(ctx, accountID, id)
			if err != nil {
				return fmt.Errorf("service token %d: %w", id, s.explain(err))
			}
			if !yes {
				if err := confirm(cmd, fmt.Sprintf("Delete service token %d %q (%s)? Whatever uses it stops working.", t.ID, t.Name, describeGrants(t.PermissionGrants))); err != nil {
					return err
				}
			}
			if err := s.client.DeleteServiceToken(ctx, accountID, id); err != nil {
				return fmt.Errorf("delete service token %d: %w", id, s.explain(err))
			}
			out := cmd.OutOrStdout()
			if rf.asJSON {
				return writeJSONOut(out, map[string]any{"id": id, "deleted": true})
			}
			fmt.Fprintf(out, "Deleted service token %d %q.\n", id, t.Name)
			return nil
		},
	}
	rf.register(cmd.Flags())
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "delete without asking")
	return cmd
}
