package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"tokend/client"
)

// The pat commands manage the personal access tokens of the logged-in user in their account.

func newPATCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "pat",
		Short:   "List, create, rotate and delete your personal access tokens",
		Example: "  tokend pat create --name laptop --expires-in 30d\n  tokend pat list\n  tokend pat delete 42",
	}
	cmd.AddCommand(newPATListCmd(), newPATCreateCmd(), newPATRotateCmd(), newPATDeleteCmd())
	return cmd
}

func newPATListCmd() *cobra.Command {
	var (
		rf    remoteFlags
		state string
	)
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List your personal access tokens in the account",
		Example: "  tokend pat list\n  tokend pat list --state all --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
			}
			var o client.ListOptions
			switch state {
			case "active":
				o.State = client.StateActive
			case "deleted":
				o.State = client.StateDeleted
			case "all":
			default:
				return fmt.Errorf("--state must be active, deleted or all, got %q", state)
			}
			ctx := cmd.Context()
			s, accountID, userID, err := rf.target(ctx)
			if err != nil {
				return err
			}
			all, err := listAll(o, func(o client.ListOptions) ([]client.PAT, client.Page, error) {
				return s.client.ListPATs(ctx, accountID, userID, o)
			})
			if err != nil {
				return s.explain(err)
			}
			out := cmd.OutOrStdout()
			if rf.asJSON {
				return writeJSONOut(out, all)
			}
			if len(all) == 0 {
				what := "personal access tokens"
				if state != "all" {
					what = state + " " + what
				}
				fmt.Fprintf(out, "No %s.\n", what)
				return nil
			}
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tUID\tNAME\tSTATE\tEXPIRES\tLAST USED\tCREATED")
			for _, p := range all {
				name := p.Name
				if s.isOwn(p.ID) {
					name += " (this CLI)"
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", p.ID, p.UID, name, p.State,
					when(p.ExpiresAt, "never"), when(p.LastUsed, "never"), when(p.CreatedAt, ""))
			}
			return tw.Flush()
		},
	}
	rf.register(cmd.Flags())
	cmd.Flags().StringVar(&state, "state", "active", "which tokens: active, deleted or all")
	return cmd
}

func newPATCreateCmd() *cobra.Command {
	var (
		rf        remoteFlags
		name      string
		expiresIn durationValue
	)
	cmd := &cobra.Command{
		Use:     "create --name NAME",
		Short:   "Create a personal access token; it is shown only once",
		Example: "  tokend pat create --name laptop --expires-in 30d\n  tokend pat create --name ci --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
			}
			if name == "" {
				return fmt.Errorf("--name is required")
			}
			ctx := cmd.Context()
			s, accountID, userID, err := rf.target(ctx)
			if err != nil {
				return err
			}
			req := client.PATRequest{Name: name}
			if expiresIn > 0 {
				t := time.Now().Add(time.Duration(expiresIn)).UTC()
				req.ExpiresAt = &t
			}
			p, err := s.client.CreatePAT(ctx, accountID, userID, req)
			if err != nil {
				return s.explain(err)
			}
			out := cmd.OutOrStdout()
			if rf.asJSON {
				return writeJSONOut(out, p)
			}
			fmt.Fprintf(out, "Created personal access token %d %q (uid %s), expires %s.\n",
				p.ID, p.Name, p.UID, when(p.ExpiresAt, "never"))
			printTokenOnce(out, p.TokenString)
			return nil
		},
	}
	rf.register(cmd.Flags())
	f := cmd.Flags()
	f.StringVar(&name, "name", "", "name of the token, to tell it apart (required)")
	f.Var(&expiresIn, "expires-in", "lifetime, e.g. 30d or 12h (default: the account's maximum, or never)")
	return cmd
}

func newPATRotateCmd() *cobra.Command {
	var (
		rf      remoteFlags
		overlap durationValue
	)
	cmd := &cobra.Command{
		Use:   "rotate ID",
		Short: "Replace a personal access token with a new one; the new token is shown only once",
		Long: `rotate creates a new token with the same name and lifetime and retires the old one: at
once, or after --overlap so that whatever uses it can be switched over. Rotating the CLI's own
token updates the config file.`,
		Example:           "  tokend pat rotate 42\n  tokend pat rotate 42 --overlap 10m --json",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completePATIDs(&rf),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, accountID, userID, id, err := rf.targetID(cmd, args[0])
			if err != nil {
				return err
			}
			p, err := s.client.RotatePAT(ctx, accountID, userID, id, time.Duration(overlap))
			if err != nil {
				return fmt.Errorf("rotate personal access token %d: %w", id, s.explain(err))
			}
			// Show the new token before anything else can fail: it is not shown again.
			out := cmd.OutOrStdout()
			if rf.asJSON {
				if err := writeJSONOut(out, p); err != nil {
					return err
				}
			} else {
				stops := "now"
				if overlap > 0 {
					stops = "at " + when(time.Now().Add(time.Duration(overlap)), "")
				}
				fmt.Fprintf(out, "Rotated personal access token %d %q: the new one is %d (uid %s); the old one stops working %s.\n",
					id, p.Name, p.ID, p.UID, stops)
				printTokenOnce(out, p.TokenString)
			}
			if !s.isOwn(id) {
				return nil
			}
			cfg := s.cfg
			cfg.TokenID, cfg.TokenUID, cfg.Token = p.ID, p.UID, p.TokenString
			if err := saveConfig(s.cfgPath, cfg); err != nil {
				return fmt.Errorf("this was the CLI's own token, but the config file could not be updated (%w); "+
					"keep the new token printed above", err)
			}
			if !rf.asJSON {
				fmt.Fprintln(out, "This was the CLI's own token; the config file now holds the new one.")
			}
			return nil
		},
	}
	rf.register(cmd.Flags())
	cmd.Flags().Var(&overlap, "overlap", "keep the old token working this long, e.g. 10m or 1d (at most 7d)")
	return cmd
}

func newPATDeleteCmd() *cobra.Command {
	var (
		rf  remoteFlags
		yes bool
	)
	cmd := &cobra.Command{
		Use:               "delete ID",
		Short:             "Delete (revoke) a personal access token at once",
		Long:              "delete revokes one of your personal access tokens: whatever uses it fails from the next request. It asks first, unless --yes.",
		Example:           "  tokend pat delete 42\n  tokend pat delete 42 --yes --json",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completePATIDs(&rf),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, accountID, userID, id, err := rf.targetID(cmd, args[0])
			if err != nil {
				return err
			}
			// Look first: the server answers, the token is there, and the question can name it.
			p, err := s.client.GetPAT(ctx, accountID, userID, id)
			if err != nil {
				return fmt.Errorf("personal access token %d: %w", id, s.explain(err))
			}
			if !yes {
				q := fmt.Sprintf("Delete personal access token %d %q? Whatever uses it stops working.", p.ID, p.Name)
				if s.isOwn(id) {
					q = fmt.Sprintf("Delete personal access token %d %q? It is the CLI's own token: you will be logged out.", p.ID, p.Name)
				}
				if err := confirm(cmd, q); err != nil {
					return err
				}
			}
			if err := s.client.DeletePAT(ctx, accountID, userID, id); err != nil {
				return fmt.Errorf("delete personal access token %d: %w", id, s.explain(err))
			}
			own := s.isOwn(id)
			if own {
				s.cfg.forgetToken()
				if err := saveConfig(s.cfgPath, s.cfg); err != nil {
					return err
				}
			}
			out := cmd.OutOrStdout()
			if rf.asJSON {
				return writeJSONOut(out, map[string]any{"id": id, "deleted": true, "was_cli_token": own})
			}
			fmt.Fprintf(out, "Deleted personal access token %d %q.\n", id, p.Name)
			if own {
				fmt.Fprintln(out, "That was the CLI's own token: you are logged out.")
			}
			return nil
		},
	}
	rf.register(cmd.Flags())
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "delete without asking")
	return cmd
}

func printTokenOnce(w io.Writer, token string) {
	fmt.Fprintf(w, "\nThis is the only time the token is shown; store it now:\n\n  %s\n\n", token)
}
