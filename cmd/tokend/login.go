package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"tokend/client"
)

// Session commands: login, logout, whoami.

func newLoginCmd() *cobra.Command {
	var (
		serverURL, email, cfgFlag string
		accountID, userID         int64
	)
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Sign in with e-mail and password and keep a personal access token for the CLI",
		Long: `login creates a personal access token named "tokend CLI on <host>" with your e-mail and
password (HTTP Basic), checks it with whoami and keeps it in the config file
($TOKEND_CONFIG, or tokend/config.json under the user config directory; mode 0600).

The password is read without echo from the terminal, as one line from stdin when stdin is
not a terminal, or from TOKEND_PASSWORD. No endpoint says who a user is by password, so the
account and user ids are needed: flags, TOKEND_ACCOUNT_ID and TOKEND_USER_ID, or the config
file of an earlier login. A previous CLI token on the same server is deleted.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
			}
			ctx := cmd.Context()
			path, err := configPath(cfgFlag)
			if err != nil {
				return err
			}
			old, err := loadConfig(path)
			if errors.Is(err, errNoConfig) {
				old, err = nil, nil
			}
			if err != nil {
				return err
			}
			serverURL = normalizeURL(serverURL)
			if old != nil && (serverURL == "" || serverURL == old.URL) {
				serverURL = old.URL
				if email == "" {
					email = old.Email
				}
				if accountID == 0 {
					accountID = old.AccountID
				}
				if userID == 0 {
					userID = old.UserID
				}
			}
			var missing []string
			for _, m := range []struct {
				name string
				set  bool
			}{{"url", serverURL != ""}, {"email", email != ""}, {"account-id", accountID > 0}, {"user-id", userID > 0}} {
				if !m.set {
					missing = append(missing, fmt.Sprintf("--%s (TOKEND_%s)", m.name, strings.ToUpper(strings.ReplaceAll(m.name, "-", "_"))))
				}
			}
			if len(missing) > 0 {
				return fmt.Errorf("login needs %s; `tokend init` prints the account and user ids", strings.Join(missing, ", "))
			}
			if plainHTTPRemote(serverURL) {
				fmt.Fprintf(cmd.ErrOrStderr(), "warning: %s is plain HTTP: the password and token cross the network unencrypted\n", serverURL)
			}
			pw, err := readPassword(ctx, cmd, email)
			if err != nil {
				return err
			}

			host, _ := os.Hostname()
			if host == "" {
				host = "unknown host"
			}
			basic := newAPIClient(serverURL, client.WithBasicAuth(email, pw))
			pat, err := basic.CreatePAT(ctx, accountID, userID, client.PATRequest{Name: "tokend CLI on " + host})
			if err != nil {
				return loginError(err)
			}
			c := newAPIClient(serverURL, client.WithToken(pat.TokenString))
			w, err := c.Whoami(ctx)
			if err == nil && (w.User == nil || w.Token.UID != pat.UID) {
				err = errors.New("whoami answered for another token")
			}
			if err != nil {
				_ = c.DeletePAT(ctx, accountID, userID, pat.ID)
				return fmt.Errorf("the new token does not work: %w", err)
			}
			cfg := &cliConfig{URL: serverURL, Email: w.User.Email, AccountID: accountID, UserID: userID,
				TokenID: pat.ID, TokenUID: pat.UID, Token: pat.TokenString}
			if err := saveConfig(path, cfg); err != nil {
				// A token nobody holds is only a risk: take it back.
				_ = c.DeletePAT(ctx, accountID, userID, pat.ID)
				return err
			}
			retirePrevious(ctx, cmd.ErrOrStderr(), old, cfg)
			fmt.Fprintf(cmd.OutOrStdout(), "Logged in as %s to account %d (token uid %s)\n", w.User.Email, accountID, pat.UID)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&serverURL, "url", "", "tokend server URL, e.g. https://tokend.example.com")
	f.StringVar(&email, "email", "", "your e-mail")
	f.Int64Var(&accountID, "account-id", 0, "account to log in to")
	f.Int64Var(&userID, "user-id", 0, "your user id")
	registerConfigFlag(f, &cfgFlag)
	return cmd
}

// readPassword reads the password: TOKEND_PASSWORD, else the terminal without echo, else one
// line of stdin.
func readPassword(ctx context.Context, cmd *cobra.Command, email string) (string, error) {
	if pw, ok := os.LookupEnv("TOKEND_PASSWORD"); ok {
		if pw == "" {
			return "", errors.New("TOKEND_PASSWORD is set but empty")
		}
		return pw, nil
	}
	in := cmd.InOrStdin()
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return readTerminalPassword(ctx, cmd.ErrOrStderr(), int(f.Fd()), email)
	}
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		return "", errors.New("no password: give it as one line on stdin, or in TOKEND_PASSWORD")
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", errors.New("the password on stdin is empty")
	}
	return pw, nil
}

// readTerminalPassword prompts on the terminal. Interrupt (which main turns into a cancelled
// context) gives up and puts the terminal back as it was.
func readTerminalPassword(ctx context.Context, prompt io.Writer, fd int, email string) (string, error) {
	state, err := term.GetState(fd)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(prompt, "Password for %s: ", email)
	type result struct {
		pw  []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		pw, err := term.ReadPassword(fd)
		done <- result{pw, err}
	}()
	select {
	case r := <-done:
		fmt.Fprintln(prompt)
		if r.err != nil {
			return "", fmt.Errorf("read password: %w", r.err)
		}
		if len(r.pw) == 0 {
			return "", errors.New("empty password")
		}
		return string(r.pw), nil
	case <-ctx.Done():
		_ = term.Restore(fd, state)
		fmt.Fprintln(prompt)
		return "", errors.New("interrupted")
	}
}

// loginError says why the server refused to create the token, and what to check.
func loginError(err error) error {
	var e *client.APIError
	if !errors.As(err, &e) {
		return fmt.Errorf("login: %w", err)
	}
	switch e.StatusCode {
	case 401:
		return fmt.Errorf("login refused: %s\nCheck the password, --email and --user-id (the id of that e-mail's user)", e.UserMessage)
	case 429:
		if e.RetryAfter > 0 {
			return fmt.Errorf("login refused: %s (retry in %s)", e.UserMessage, e.RetryAfter)
		}
	}
	return fmt.Errorf("login refused: %s", e.UserMessage)
}

// retirePrevious deletes the token of an earlier login on the same server, so that logging in
// again does not pile up tokens. It only warns when it cannot.
func retirePrevious(ctx context.Context, warn io.Writer, old, cur *cliConfig) {
	if old == nil || old.Token == "" || old.Token == cur.Token {
		return
	}
	if old.URL != cur.URL || old.AccountID != cur.AccountID || old.UserID != cur.UserID {
		fmt.Fprintf(warn, "note: the previous CLI token (uid %s, %s account %d) was not deleted; it stays valid until you delete it there\n",
			old.TokenUID, old.URL, old.AccountID)
		return
	}
	c := newAPIClient(old.URL, client.WithToken(old.Token))
	id := old.TokenID
	var err error
	if id == 0 {
		id, err = findPATByUID(ctx, c, old.AccountID, old.UserID, old.TokenUID)
	}
	if err == nil {
		err = c.DeletePAT(ctx, old.AccountID, old.UserID, id)
	}
	if err != nil && !client.IsUnauthorized(err) && !client.IsNotFound(err) {
		fmt.Fprintf(warn, "warning: could not delete the previous CLI token (uid %s): %v\n", old.TokenUID, err)
	}
}

func newLogoutCmd() *cobra.Command {
	var cfgFlag string
	cmd := &cobra.Command{
		Use:   "logout",
		Short: "Delete the CLI's personal access token on the server and forget it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
			}
			ctx, out := cmd.Context(), cmd.OutOrStdout()
			path, err := configPath(cfgFlag)
			if err != nil {
				return err
			}
			cfg, err := loadConfig(path)
			if errors.Is(err, errNoConfig) || err == nil && cfg.Token == "" {
				fmt.Fprintln(out, "Not logged in.")
				return nil
			}
			if err != nil {
				return err
			}
			c := newAPIClient(cfg.URL, client.WithToken(cfg.Token))
			id := cfg.TokenID
			if id == 0 {
				id, err = findPATByUID(ctx, c, cfg.AccountID, cfg.UserID, cfg.TokenUID)
			}
			if err == nil {
				err = c.DeletePAT(ctx, cfg.AccountID, cfg.UserID, id)
			}
			gone := client.IsUnauthorized(err) || client.IsNotFound(err)
			if err != nil && !gone {
				return fmt.Errorf("logout: the token could not be deleted on %s (%w); the config file still holds it, try again", cfg.URL, err)
			}
			uid := cfg.TokenUID
			cfg.forgetToken()
			if err := saveConfig(path, cfg); err != nil {
				return err
			}
			if gone {
				fmt.Fprintf(out, "Logged out of %s; the token (uid %s) was already invalid.\n", cfg.URL, uid)
			} else {
				fmt.Fprintf(out, "Logged out of %s; deleted token uid %s.\n", cfg.URL, uid)
			}
			return nil
		},
	}
	registerConfigFlag(cmd.Flags(), &cfgFlag)
	return cmd
}

func newWhoamiCmd() *cobra.Command {
	var rf remoteFlags
	cmd := &cobra.Command{
		Use:   "whoami",
		Short: "Show who the CLI's token (or --token) is",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
			}
			s, err := rf.open()
			if err != nil {
				return err
			}
			w, err := s.client.Whoami(cmd.Context())
			if err != nil {
				return s.explain(err)
			}
			out := cmd.OutOrStdout()
			if rf.asJSON {
				return writeJSONOut(out, w)
			}
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
			fmt.Fprintf(tw, "Server:\t%s\n", s.url)
			if u := w.User; u != nil {
				name := u.Email
				if u.Fullname != "" {
					name = u.Fullname + " <" + u.Email + ">"
				}
				fmt.Fprintf(tw, "User:\t%s (user %d)\n", name, u.ID)
				for _, m := range u.Permissions {
					if m.AccountID == w.Token.AccountID {
						fmt.Fprintf(tw, "License:\t%s\n", m.LicenseType)
					}
				}
			}
			if a := w.Account; a != nil {
				fmt.Fprintf(tw, "Account:\t%s (account %d, plan %s)\n", a.Name, a.ID, a.Plan)
			}
			fmt.Fprintf(tw, "Token:\t%s, uid %s, expires %s\n", w.Token.Kind, w.Token.UID, when(w.Token.ExpiresAt, "never"))
			return tw.Flush()
		},
	}
	rf.register(cmd.Flags())
	return cmd
}
