package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"tokend/client"
)

// Session commands: login, logout, whoami.

func newLoginCmd() *cobra.Command {
	var (
		serverURL, email, cfgFlag string
		accountID, userID         int64
		withPassword, noBrowser   bool
	)
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Sign in through the browser and keep a personal access token for the CLI",
		Long: `login signs the CLI in with the OAuth device flow: it prints a short code and a link to
the console's /device page, opens the browser when it can, and waits while you sign in there,
check the code, pick the account and approve. It then keeps a personal access token named
"tokend CLI on <host>", valid for 90 days (or less when the account says so), in the config
file ($TOKEND_CONFIG, or tokend/config.json under the user config directory; mode 0600).

On a machine without a browser, follow the link from any other device; or, with
--with-password, sign in with e-mail and password instead: the password is read without echo
from the terminal, as one line from stdin when stdin is not a terminal, or from
TOKEND_PASSWORD, and the account and user ids are needed (flags, TOKEND_ACCOUNT_ID and
TOKEND_USER_ID, or the config file of an earlier login).

A previous CLI token on the same server is deleted.`,
		Example: `  tokend login --url https://tokend.example.com
  tokend login --url https://tokend.example.com --with-password --email you@example.com --account-id 1 --user-id 1`,
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
			if serverURL == "" {
				return errors.New("login needs --url (TOKEND_URL), the tokend server's address")
			}
			var cfg *cliConfig
			if withPassword {
				cfg, err = loginWithPassword(ctx, cmd, serverURL, email, accountID, userID)
			} else {
				cfg, err = loginWithDevice(ctx, cmd, serverURL, !noBrowser && os.Getenv("TOKEND_NO_BROWSER") == "")
			}
			if err != nil {
				return err
			}
			c := newAPIClient(serverURL, client.WithToken(cfg.Token))
			if err := saveConfig(path, cfg); err != nil {
				// A token nobody holds is only a risk: take it back.
				_ = c.DeletePAT(ctx, cfg.AccountID, cfg.UserID, cfg.TokenID)
				return err
			}
			retirePrevious(ctx, cmd.ErrOrStderr(), old, cfg)
			fmt.Fprintf(cmd.OutOrStdout(), "Logged in as %s to account %d (token uid %s)\n", cfg.Email, cfg.AccountID, cfg.TokenUID)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&serverURL, "url", "", "tokend server URL, e.g. https://tokend.example.com")
	f.BoolVar(&withPassword, "with-password", false, "sign in with e-mail and password instead of the browser (headless machines)")
	f.BoolVar(&noBrowser, "no-browser", false, "do not try to open a browser; print the link only (also TOKEND_NO_BROWSER)")
	f.StringVar(&email, "email", "", "your e-mail (with --with-password)")
	f.Int64Var(&accountID, "account-id", 0, "account to log in to (with --with-password)")
	f.Int64Var(&userID, "user-id", 0, "your user id (with --with-password)")
	registerConfigFlag(f, &cfgFlag)
	return cmd
}

// hostName is the machine's name as the token and the console's device page show it.
func hostName() string {
	host, _ := os.Hostname()
	if host == "" {
		host = "unknown host"
	}
	return host
}

// loginWithDevice runs the OAuth device flow: show the code and link, open the browser if
// asked, and poll as the server says until the user approves, denies or the code expires.
func loginWithDevice(ctx context.Context, cmd *cobra.Command, serverURL string, browser bool) (*cliConfig, error) {
	out := cmd.ErrOrStderr()
	if plainHTTPRemote(serverURL) {
		fmt.Fprintf(out, "warning: %s is plain HTTP: the token crosses the network unencrypted\n", serverURL)
	}
	anon := client.New(serverURL, client.WithUserAgent(fmt.Sprintf("tokend-cli/%s (%s/%s)", version, runtime.GOOS, runtime.GOARCH)))
	d, err := anon.StartDeviceLogin(ctx, hostName())
	if err != nil {
		return nil, loginError(err)
	}
	fmt.Fprintf(out, "To sign in, open %s\nand enter the code %s\n", d.VerificationURI, d.UserCode)
	if d.VerificationURIComplete != "" {
		fmt.Fprintf(out, "(or open %s)\n", d.VerificationURIComplete)
	}
	if browser && openBrowser(d.VerificationURIComplete) {
		fmt.Fprintln(out, "Opened your browser.")
	}
	fmt.Fprintln(out, "Waiting for approval in the console…")
	interval := time.Duration(max(d.Interval, 1)) * time.Second
	deadline := time.Now().Add(time.Duration(d.ExpiresIn) * time.Second)
	var tok *client.OAuthToken
	for tok == nil {
		if time.Now().After(deadline) {
			return nil, errors.New("login: the code expired before it was approved; run tokend login again")
		}
		select {
		case <-ctx.Done():
			return nil, errors.New("login: interrupted")
		case <-time.After(interval):
		}
		tok, err = anon.PollDeviceLogin(ctx, d.DeviceCode)
		var oe *client.OAuthError
		switch {
		case err == nil:
		case errors.As(err, &oe) && oe.Code == "authorization_pending":
		case errors.As(err, &oe) && oe.Code == "slow_down":
			interval = max(interval+5*time.Second, time.Duration(oe.Interval)*time.Second)
		case errors.As(err, &oe) && oe.Code == "access_denied":
			return nil, errors.New("login: the request was denied in the console")
		case errors.As(err, &oe) && oe.Code == "expired_token":
			return nil, errors.New("login: the code expired before it was approved; run tokend login again")
		default:
			return nil, loginError(err)
		}
	}
	c := newAPIClient(serverURL, client.WithToken(tok.AccessToken))
	w, err := c.Whoami(ctx)
	if err == nil && w.User == nil {
		err = errors.New("whoami answered without a user")
	}
	if err != nil {
		_ = c.DeletePAT(ctx, tok.AccountID, tok.UserID, tok.TokenID)
		return nil, fmt.Errorf("the new token does not work: %w", err)
	}
	return &cliConfig{URL: serverURL, Email: w.User.Email, AccountID: tok.AccountID, UserID: tok.UserID,
		TokenID: tok.TokenID, TokenUID: w.Token.UID, Token: tok.AccessToken}, nil
}

// openBrowser tries the platform's way of opening a URL, and reports whether it started.
func openBrowser(u string) bool {
	if u == "" {
		return false
	}
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", u)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", u)
	default:
		if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
			return false
		}
		cmd = exec.Command("xdg-open", u)
	}
	if cmd.Start() != nil {
		return false
	}
	go cmd.Wait() // reap it; its outcome does not matter
	return true
}

// loginWithPassword creates the CLI's PAT with e-mail and password (HTTP Basic).
func loginWithPassword(ctx context.Context, cmd *cobra.Command, serverURL, email string, accountID, userID int64) (*cliConfig, error) {
	var missing []string
	for _, m := range []struct {
		name string
		set  bool
	}{{"email", email != ""}, {"account-id", accountID > 0}, {"user-id", userID > 0}} {
		if !m.set {
			missing = append(missing, fmt.Sprintf("--%s (TOKEND_%s)", m.name, strings.ToUpper(strings.ReplaceAll(m.name, "-", "_"))))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("login --with-password needs %s; `tokend init` prints the account and user ids", strings.Join(missing, ", "))
	}
	if plainHTTPRemote(serverURL) {
		fmt.Fprintf(cmd.ErrOrStderr(), "warning: %s is plain HTTP: the password and token cross the network unencrypted\n", serverURL)
	}
	// Check the server before asking for anything.
	if _, err := newAPIClient(serverURL, client.WithToken("")).Healthz(ctx); err != nil {
		return nil, fmt.Errorf("login: %s does not answer as a tokend server: %w", serverURL, err)
	}
	pw, err := readPassword(ctx, cmd, email)
	if err != nil {
		return nil, err
	}
	basic := newAPIClient(serverURL, client.WithBasicAuth(email, pw))
	pat, err := basic.CreatePAT(ctx, accountID, userID, client.PATRequest{Name: "tokend CLI on " + hostName()})
	if err != nil {
		return nil, loginError(err)
	}
	c := newAPIClient(serverURL, client.WithToken(pat.TokenString))
	w, err := c.Whoami(ctx)
	if err == nil && (w.User == nil || w.Token.UID != pat.UID) {
		err = errors.New("whoami answered for another token")
	}
	if err != nil {
		_ = c.DeletePAT(ctx, accountID, userID, pat.ID)
		return nil, fmt.Errorf("the new token does not work: %w", err)
	}
	return &cliConfig{URL: serverURL, Email: w.User.Email, AccountID: accountID, UserID: userID,
		TokenID: pat.ID, TokenUID: pat.UID, Token: pat.TokenString}, nil
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
	var oe *client.OAuthError
	if errors.As(err, &oe) {
		return fmt.Errorf("login refused: %s", oe.Description)
	}
	var e *client.APIError
	if !errors.As(err, &e) {
		return fmt.Errorf("login: %w", err)
	}
	switch e.StatusCode {
	case 401:
		return fmt.Errorf("login refused: %s\nCheck the password, --email and --user-id (the id of that e-mail's user)", e.UserMessage)
	case 404:
		return fmt.Errorf("login refused: %s\nIs this a tokend server that offers browser login? --with-password signs in without it", e.UserMessage)
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
		Use:     "logout",
		Short:   "Delete the CLI's personal access token on the server and forget it",
		Example: "  tokend logout",
		Args:    cobra.NoArgs,
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
		Use:     "whoami",
		Short:   "Show who the CLI's token (or --token) is",
		Example: "  tokend whoami\n  TOKEND_TOKEN=dbtc_… tokend whoami --url https://tokend.example.com --json",
		Args:    cobra.NoArgs,
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
