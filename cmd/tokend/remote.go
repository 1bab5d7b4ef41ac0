package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"tokend/client"
)

// remoteFlags are the flags of the commands that talk to a server: where, with which token,
// which config file and in which output format. Each can also be set as TOKEND_<FLAG>.
type remoteFlags struct {
	url, token, config string
	asJSON             bool
}

func (f *remoteFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.url, "url", "", "tokend server URL (default: the config file's)")
	fs.StringVar(&f.token, "token", "", "token to use instead of the config file's (prefer TOKEND_TOKEN: flags show in ps)")
	registerConfigFlag(fs, &f.config)
	fs.BoolVar(&f.asJSON, "json", false, "print JSON instead of a table")
}

func registerConfigFlag(fs *pflag.FlagSet, p *string) {
	fs.StringVar(p, "config", "", "config file (default: tokend/config.json under the user config directory)")
}

// session is a client ready for one command, with the account and user its token acts in.
type session struct {
	client    *client.Client
	url       string
	accountID int64
	userID    int64
	// cfg is the config file as read (nil when there is none); ownToken says the client uses
	// the token in it.
	cfgPath  string
	cfg      *cliConfig
	ownToken bool
}

// open resolves the server and token: flags and TOKEND_* first, the config file otherwise.
// The config file's token goes only to the config file's server.
func (f *remoteFlags) open() (*session, error) {
	path, err := configPath(f.config)
	if err != nil {
		return nil, err
	}
	cfg, err := loadConfig(path)
	if errors.Is(err, errNoConfig) {
		cfg, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	s := &session{cfgPath: path, cfg: cfg, url: normalizeURL(f.url)}
	if s.url == "" && cfg != nil {
		s.url = cfg.URL
	}
	if s.url == "" {
		return nil, authError(errors.New("no server: run `tokend login --url URL ...` first, or give --url (TOKEND_URL)"))
	}
	token := f.token
	if token == "" {
		switch {
		case cfg == nil || cfg.Token == "":
			return nil, authError(errors.New("not logged in: run `tokend login`, or give a token in TOKEND_TOKEN"))
		case cfg.URL != s.url:
			return nil, authError(fmt.Errorf("the config file's token is for %s, not %s: log in there, or give a token in TOKEND_TOKEN",
				cfg.URL, s.url))
		}
		token = cfg.Token
		s.accountID, s.userID, s.ownToken = cfg.AccountID, cfg.UserID, true
	}
	s.client = newAPIClient(s.url, client.WithToken(token))
	return s, nil
}

func newAPIClient(url string, cred client.Option) *client.Client {
	return client.New(url, cred, client.WithUserAgent("tokend-cli/"+version))
}

// ids returns the account and user the token acts in: the config file's, or whoami's for a
// token given on the command line.
func (s *session) ids(ctx context.Context) (accountID, userID int64, err error) {
	if s.accountID != 0 && s.userID != 0 {
		return s.accountID, s.userID, nil
	}
	w, err := s.client.Whoami(ctx)
	if err != nil {
		return 0, 0, s.explain(err)
	}
	if w.User == nil || w.Token.AccountID == 0 {
		return 0, 0, fmt.Errorf("this command needs a personal access token; the token given is a %s token", w.Token.Kind)
	}
	s.accountID, s.userID = w.Token.AccountID, w.User.ID
	return s.accountID, s.userID, nil
}

// explain adds what to do to an API error.
func (s *session) explain(err error) error {
	if client.IsUnauthorized(err) {
		if s.ownToken {
			return authError(fmt.Errorf("%w\nThe server refused the CLI's token (deleted, rotated or expired?): run `tokend login` again", err))
		}
		return authError(fmt.Errorf("%w\nThe server refused the token given", err))
	}
	return err
}

// isOwn reports whether PAT id is the one in the config file, for this server.
func (s *session) isOwn(id int64) bool {
	return s.cfg != nil && s.cfg.Token != "" && s.cfg.URL == s.url && s.cfg.TokenID == id
}

// normalizeURL drops surrounding space and trailing slashes, so that one server has one
// spelling in the config file.
func normalizeURL(u string) string {
	return strings.TrimRight(strings.TrimSpace(u), "/")
}

// plainHTTPRemote reports whether u sends credentials unencrypted to another machine.
func plainHTTPRemote(u string) bool {
	p, err := url.Parse(u)
	if err != nil || p.Scheme != "http" {
		return false
	}
	host := p.Hostname()
	if host == "localhost" {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}

// findPATByUID finds a PAT of the user by its public id, for a config file that lacks the
// numeric id.
func findPATByUID(ctx context.Context, c *client.Client, accountID, userID int64, uid string) (int64, error) {
	o := client.ListOptions{State: client.StateActive}
	for {
		ps, page, err := c.ListPATs(ctx, accountID, userID, o)
		if err != nil {
			return 0, err
		}
		for _, p := range ps {
			if p.UID == uid {
				return p.ID, nil
			}
		}
		var more bool
		if o, more = page.Next(o); !more {
			return 0, fmt.Errorf("no active personal access token with uid %s", uid)
		}
	}
}

// listAll reads a list page after page from o, for the commands that print all of it.
func listAll[T any](o client.ListOptions, list func(client.ListOptions) ([]T, client.Page, error)) ([]T, error) {
	return listUpTo(o, 0, list)
}

// listUpTo is listAll that stops once it holds max items (0: no limit) and returns max of them.
func listUpTo[T any](o client.ListOptions, max int, list func(client.ListOptions) ([]T, client.Page, error)) ([]T, error) {
	all := []T{}
	for {
		items, page, err := list(o)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		if max > 0 && len(all) >= max {
			return all[:max], nil
		}
		var more bool
		if o, more = page.Next(o); !more {
			return all, nil
		}
	}
}

// parseID reads an object's ID argument; anything else is a usage error that points to the
// command that lists such objects (for example "tokend webhook list").
func parseID(arg, list string) (int64, error) {
	id, err := strconv.ParseInt(arg, 10, 64)
	if err != nil || id <= 0 {
		return 0, usageErrorf("ID must be a positive integer (see `%s`), got %q", list, arg)
	}
	return id, nil
}

// listCommand names the list command beside cmd ("tokend pat delete" → "tokend pat list").
func listCommand(cmd *cobra.Command) string {
	if p := cmd.Parent(); p != nil {
		return p.CommandPath() + " list"
	}
	return cmd.CommandPath()
}

func writeJSONOut(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// when shows a time for people: local, to the second; zero as never (or what is given).
func when(t time.Time, zero string) string {
	if t.IsZero() {
		return zero
	}
	return t.Local().Format("2006-01-02 15:04:05 MST")
}

// target opens the remote session and finds whose tokens a command acts on.
// targetID is target for a command that acts on one object: it binds the environment and
// checks the ID argument before it opens the session, so a bad ID is a usage error that needs
// no server.
func (f *remoteFlags) targetID(cmd *cobra.Command, arg string) (s *session, accountID, userID, id int64, err error) {
	if err = bindEnv(cmd); err != nil {
		return nil, 0, 0, 0, err
	}
	if id, err = parseID(arg, listCommand(cmd)); err != nil {
		return nil, 0, 0, 0, err
	}
	s, accountID, userID, err = f.target(cmd.Context())
	return s, accountID, userID, id, err
}

func (f *remoteFlags) target(ctx context.Context) (s *session, accountID, userID int64, err error) {
	if s, err = f.open(); err != nil {
		return nil, 0, 0, err
	}
	if accountID, userID, err = s.ids(ctx); err != nil {
		return nil, 0, 0, err
	}
	return s, accountID, userID, nil
}
