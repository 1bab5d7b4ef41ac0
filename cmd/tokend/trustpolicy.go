package main

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"tokend/client"
)

// The trust-policy commands manage the account's trust policies: which CI jobs may exchange
// their OIDC token for a short-lived service token (keyless CI).

func newTrustPolicyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "trust-policy",
		Aliases: []string{"trust-policies"},
		Short:   "List, create and delete the account's trust policies (keyless CI)",
		Example: `  tokend trust-policy list
  tokend trust-policy delete 3`,
	}
	cmd.AddCommand(newTrustPolicyListCmd(), newTrustPolicyCreateCmd(), newTrustPolicyDeleteCmd())
	return cmd
}

func newTrustPolicyListCmd() *cobra.Command {
	var rf remoteFlags
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List the account's trust policies",
		Example: "  tokend trust-policy list\n  tokend trust-policy list --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
			}
			ctx := cmd.Context()
			s, accountID, _, err := rf.target(ctx)
			if err != nil {
				return err
			}
			all, err := listAll(client.ListOptions{}, func(o client.ListOptions) ([]client.TrustPolicy, client.Page, error) {
				return s.client.ListTrustPolicies(ctx, accountID, o)
			})
			if err != nil {
				return s.explain(err)
			}
			out := cmd.OutOrStdout()
			if rf.asJSON {
				return writeJSONOut(out, all)
			}
			if len(all) == 0 {
				fmt.Fprintln(out, "No trust policies.")
				return nil
			}
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tISSUER\tAUDIENCE\tCONDITIONS\tPERMISSIONS\tLIFETIME")
			for _, p := range all {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", p.ID, p.Name, p.Issuer, p.Audience, conditions(p.Claims),
					grantList(p.Permissions), time.Duration(p.TTLSeconds)*time.Second)
			}
			return tw.Flush()
		},
	}
	rf.register(cmd.Flags())
	return cmd
}

func conditions(claims map[string]string) string {
	var parts []string
	for k, v := range claims {
		parts = append(parts, k+"="+v)
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}

func grantList(gs []client.Grant) string {
	parts := make([]string, len(gs))
	for i, g := range gs {
		scope := "all"
		if g.ProjectID != nil {
			scope = "project " + strconv.FormatInt(*g.ProjectID, 10)
		}
		parts[i] = g.PermissionSet + "@" + scope
	}
	return strings.Join(parts, ", ")
}

// parseGrant reads SET (all projects) or SET:PROJECT_ID.
func parseGrant(s string) (client.Grant, error) {
	set, project, scoped := strings.Cut(s, ":")
	if set == "" {
		return client.Grant{}, fmt.Errorf("--permission %q: want SET or SET:PROJECT_ID, e.g. job_admin or developer:12", s)
	}
	if !scoped {
		return client.Grant{PermissionSet: set, AllProjects: true}, nil
	}
	id, err := strconv.ParseInt(project, 10, 64)
	if err != nil || id <= 0 {
		return client.Grant{}, fmt.Errorf("--permission %q: the project id must be a positive integer", s)
	}
	return client.Grant{PermissionSet: set, ProjectID: &id}, nil
}

func newTrustPolicyCreateCmd() *cobra.Command {
	var (
		rf                     remoteFlags
		name, issuer, audience string
		claims, permissions    []string
		ttl                    = durationValue(15 * time.Minute)
		jwksFile               string
	)
	cmd := &cobra.Command{
		Use:   "create --name NAME --issuer URL --audience AUD --claim NAME=VALUE... --permission SET[:PROJECT]...",
		Short: "Let CI jobs whose OIDC token matches exchange it for a short-lived service token",
		Example: `  tokend trust-policy create --name "deploy from main" \
    --issuer https://token.actions.githubusercontent.com --audience tokend \
    --claim repository=my-org/my-repo --claim 'ref=refs/heads/main' \
    --permission job_admin --ttl 15m`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
			}
			p := client.TrustPolicy{Name: name, Issuer: issuer, Audience: audience, Claims: map[string]string{},
				Permissions: []client.Grant{}, TTLSeconds: int(time.Duration(ttl) / time.Second)}
			for _, c := range claims {
				k, v, ok := strings.Cut(c, "=")
				if !ok || k == "" || v == "" {
					return fmt.Errorf("--claim %q: want NAME=VALUE, e.g. repository=my-org/my-repo (* matches anything)", c)
				}
				p.Claims[k] = v
			}
			for _, s := range permissions {
				g, err := parseGrant(s)
				if err != nil {
					return err
				}
				p.Permissions = append(p.Permissions, g)
			}
			if jwksFile != "" {
				b, err := os.ReadFile(jwksFile)
				if err != nil {
					return fmt.Errorf("--jwks-file: %w", err)
				}
				p.JWKS = b
			}
			ctx := cmd.Context()
			s, accountID, _, err := rf.target(ctx)
			if err != nil {
				return err
			}
			created, err := s.client.CreateTrustPolicy(ctx, accountID, p)
			if err != nil {
				return s.explain(err)
			}
			out := cmd.OutOrStdout()
			if rf.asJSON {
				return writeJSONOut(out, created)
			}
			fmt.Fprintf(out, "Created trust policy %d (%s). A matching job exchanges its OIDC token at %s/api/tokend/v1/oauth/token with account_id=%d.\n",
				created.ID, created.Name, s.url, accountID)
			return nil
		},
	}
	f := cmd.Flags()
	rf.register(f)
	f.StringVar(&name, "name", "", "a name for the policy")
	f.StringVar(&issuer, "issuer", "", "the OIDC issuer, e.g. https://token.actions.githubusercontent.com")
	f.StringVar(&audience, "audience", "", "the aud the job's token must carry")
	f.StringArrayVar(&claims, "claim", nil, "a condition NAME=VALUE on the token's claims; * matches anything (repeatable)")
	f.StringArrayVar(&permissions, "permission", nil, "a permission set for all projects, or SET:PROJECT_ID (repeatable)")
	f.Var(&ttl, "ttl", "lifetime of each minted service token, e.g. 15m (1m to 1h)")
	f.StringVar(&jwksFile, "jwks-file", "", "pin the issuer's keys from this JWKS file instead of discovering them")
	return cmd
}

func newTrustPolicyDeleteCmd() *cobra.Command {
	var (
		rf  remoteFlags
		yes bool
	)
	cmd := &cobra.Command{
		Use:     "delete ID",
		Short:   "Delete a trust policy; the service tokens it minted stop working at once",
		Long:    "delete removes a trust policy, and the service tokens it minted stop working at once. It asks first, unless --yes.",
		Example: "  tokend trust-policy delete 3\n  tokend trust-policy delete 3 --yes --json",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
			}
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id <= 0 {
				return usageErrorf("the trust policy id must be a positive integer, got %q", args[0])
			}
			ctx := cmd.Context()
			s, accountID, _, err := rf.target(ctx)
			if err != nil {
				return err
			}
			// Look first: the server answers, the policy is there, and the question can name it.
			p, err := s.client.TrustPolicy(ctx, accountID, id)
			if err != nil {
				return fmt.Errorf("trust policy %d: %w", id, s.explain(err))
			}
			if !yes {
				if err := confirm(cmd, fmt.Sprintf("Delete trust policy %d %q? The service tokens it minted stop working.", p.ID, p.Name)); err != nil {
					return err
				}
			}
			if err := s.client.DeleteTrustPolicy(ctx, accountID, id); err != nil {
				return s.explain(err)
			}
			if rf.asJSON {
				return writeJSONOut(cmd.OutOrStdout(), map[string]any{"id": id, "deleted": true})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Deleted trust policy %d; the service tokens it minted no longer work.\n", id)
			return nil
		},
	}
	rf.register(cmd.Flags())
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "delete without asking")
	return cmd
}
