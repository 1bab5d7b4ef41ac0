package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"tokend"
)

// newUserCmd groups commands about people: the operator's set-password (in the database) and
// an admin's reset-link (through the API).
func newUserCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "user",
		Short: "Recover access: set a password (operator) or issue a reset link (admin)",
		Example: `  tokend user set-password --email chani@example.com --data-dir /var/lib/tokend
  tokend user reset-link 42`,
	}
	cmd.AddCommand(newUserSetPasswordCmd(), newUserResetLinkCmd())
	return cmd
}

func newUserSetPasswordCmd() *cobra.Command {
	var (
		sf     storageFlags
		email  string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "set-password --email EMAIL",
		Short: "Set a user's password directly in the database (operator)",
		Long: `set-password is the operator's way back in when nobody can sign in: it sets the password of
the user with the e-mail, in the database, and signs out all their console sessions and voids
their reset links. Their tokens keep working.

The password is read from TOKEND_NEW_PASSWORD, else from the terminal (twice, without echo),
else as one line of stdin.`,
		Example: `  tokend user set-password --email owner@example.com --data-dir /var/lib/tokend
  printf '%s\n' "$NEW_PASSWORD" | tokend user set-password --email owner@example.com --database-url "$DATABASE_URL"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
			}
			if email == "" {
				return usageErrorf("--email is required")
			}
			ctx := cmd.Context()
			st, _, err := sf.open(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			svc := tokend.NewService(st, tokend.Options{})
			// Ask only once the database answers and the user exists.
			if _, err := st.UserByEmail(ctx, tokend.NormalizeEmail(email)); err != nil {
				if tokend.ErrorCode(err) == tokend.ENotFound {
					return fmt.Errorf("no user has the e-mail %s", tokend.NormalizeEmail(email))
				}
				return operatorError(err)
			}
			pw, err := newSecretReader(cmd).readNew(ctx, "TOKEND_NEW_PASSWORD", "New password for "+email)
			if err != nil {
				return err
			}
			u, err := svc.SetPassword(ctx, email, pw)
			if err != nil {
				return operatorError(err)
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return writeJSONOut(out, map[string]any{"user_id": u.ID, "email": u.Email, "password_set": true})
			}
			fmt.Fprintf(out, "Set the password of %s (user %d); their console sessions are signed out.\n", u.Email, u.ID)
			return nil
		},
	}
	sf.register(cmd.Flags())
	cmd.Flags().StringVar(&email, "email", "", "the user's e-mail (required)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	return cmd
}

func newUserResetLinkCmd() *cobra.Command {
	var (
		rf        remoteFlags
		expiresIn durationValue
	)
	cmd := &cobra.Command{
		Use:   "reset-link USER_ID",
		Short: "Issue a one-time link for a member to set a new password (admin)",
		Long: `reset-link asks the server for a one-time password reset link for a member of your
account, and prints it once: hand it over yourself (tokend sends no mail). The link works once,
until it expires (default 24h, at most 7d); issuing another voids it. A member who belongs to
other accounts too can only be helped by an operator (tokend user set-password).`,
		Example: `  tokend user reset-link 42
  tokend user reset-link 42 --expires-in 2h --json`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeUserIDs(&rf),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, accountID, _, userID, err := rf.targetID(cmd, args[0])
			if err != nil {
				return err
			}
			l, err := s.client.CreatePasswordReset(ctx, accountID, userID, time.Duration(expiresIn))
			if err != nil {
				return fmt.Errorf("reset link for user %d: %w", userID, s.explain(err))
			}
			link := s.url + l.Path
			out := cmd.OutOrStdout()
			if rf.asJSON {
				return writeJSONOut(out, map[string]any{"user_id": l.UserID, "url": link, "expires_at": l.ExpiresAt})
			}
			fmt.Fprintf(out, "Password reset link for user %d, valid once until %s.\n", l.UserID, when(l.ExpiresAt, ""))
			fmt.Fprintf(out, "\nThis is the only time the link is shown; give it to the user yourself:\n\n  %s\n\n", link)
			return nil
		},
	}
	rf.register(cmd.Flags())
	cmd.Flags().Var(&expiresIn, "expires-in", "how long the link works, e.g. 2h or 3d (default 24h, at most 7d)")
	return cmd
}

func newPasswordCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "password",
		Short:   "Change your own password",
		Example: `  tokend password change`,
	}
	cmd.AddCommand(newPasswordChangeCmd())
	return cmd
}

func newPasswordChangeCmd() *cobra.Command {
	var rf remoteFlags
	cmd := &cobra.Command{
		Use:   "change",
		Short: "Change your password (the current one is required)",
		Long: `change sets a new password for the user of the CLI's token, after checking the current one.
Your console sessions are signed out; tokens, the CLI's included, keep working.

The current password comes from TOKEND_PASSWORD, the new one from TOKEND_NEW_PASSWORD; else
both are asked on the terminal (the new one twice), or read as two lines of stdin: current,
then new. The server is checked before anything is asked.`,
		Example: `  tokend password change
  printf '%s\n%s\n' "$OLD" "$NEW" | tokend password change`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
			}
			ctx := cmd.Context()
			s, _, userID, err := rf.target(ctx)
			if err != nil {
				return err
			}
			// target asked whoami only for a token without ids; make sure the server answers
			// (and takes the token) before asking for any password.
			if _, err := s.client.Whoami(ctx); err != nil {
				return s.explain(err)
			}
			sr := newSecretReader(cmd)
			cur, err := sr.read(ctx, "TOKEND_PASSWORD", "Current password")
			if err != nil {
				return err
			}
			next, err := sr.readNew(ctx, "TOKEND_NEW_PASSWORD", "New password")
			if err != nil {
				return err
			}
			if err := s.client.ChangePassword(ctx, userID, cur, next); err != nil {
				return s.explain(err)
			}
			out := cmd.OutOrStdout()
			if rf.asJSON {
				return writeJSONOut(out, map[string]any{"user_id": userID, "password_changed": true})
			}
			fmt.Fprintln(out, "Password changed. Your console sessions are signed out; tokens keep working.")
			return nil
		},
	}
	rf.register(cmd.Flags())
	return cmd
}
