package console

import (
	"crypto/subtle"
	"encoding/base64"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"tokend"
	"tokend/edge"
)

// Cookie names. Over TLS the __Host- prefix makes the browser insist on Secure, Path=/ and no
// Domain, so that no sibling subdomain can plant or read the cookie.
const (
	sessionCookie = "tokend_session"
	signInCookie  = "tokend_signin" // double-submit token of the sign-in form
)

func (c *Console) cookieName(r *http.Request, base string) string {
	if c.secure(r) {
		return "__Host-" + base
	}
	return base
}

func (c *Console) setCookie(w http.ResponseWriter, r *http.Request, base, value string, maxAge int, sameSite http.SameSite) {
	http.SetCookie(w, &http.Cookie{Name: c.cookieName(r, base), Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: c.secure(r), SameSite: sameSite})
}

func (c *Console) cookie(r *http.Request, base string) string {
	ck, err := r.Cookie(c.cookieName(r, base))
	if err != nil {
		return ""
	}
	return ck.Value
}

// signedIn is a request's session: who, in which account, with what rights.
type signedIn struct {
	sess     *tokend.Session
	user     *tokend.User
	p        *tokend.Principal
	account  *tokend.Account
	accounts []*tokend.Account
	csrf     string
}

func (in *signedIn) view(title, section string, data any) *view {
	return &view{Title: title, Section: section, User: in.user, Account: in.account, Accounts: in.accounts,
		CSRF: in.csrf, Nav: navFor(in.p), Data: data}
}

// authed runs h for a signed-in user in their current account. Without a live session a page
// goes to the sign-in form; a form post must carry the session's CSRF token.
func (c *Console) authed(h func(http.ResponseWriter, *http.Request, *signedIn)) http.Handler {
	return c.session(h, true)
}

// sessionOnly runs h for a signed-in user without acting in an account: signing out and
// switching accounts stay possible where the current account refuses the user (its IP
// restrictions, say).
func (c *Console) sessionOnly(h func(http.ResponseWriter, *http.Request, *signedIn)) http.Handler {
	return c.session(h, false)
}

func (c *Console) session(h func(http.ResponseWriter, *http.Request, *signedIn), inAccount bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		sess, user, err := c.svc.Session(ctx, c.cookie(r, sessionCookie))
		if err != nil {
			if tokend.ErrorCode(err) == tokend.EUnauthenticated {
				c.toSignIn(w, r)
				return
			}
			c.renderError(w, r, nil, err)
			return
		}
		in := &signedIn{sess: sess, user: user, csrf: csrfToken(sess.CSRFSecret)}
		if r.Method == http.MethodPost {
			if err := r.ParseForm(); err != nil {
				c.renderError(w, r, in, tokend.Errorf(tokend.EInvalid, "The form could not be read."))
				return
			}
			if !validCSRF(sess.CSRFSecret, r.PostForm.Get("csrf")) {
				c.renderError(w, r, in, errCrossSite)
				return
			}
		}
		if in.accounts, err = c.svc.SessionAccounts(ctx, sess); err != nil {
			c.renderError(w, r, in, err)
			return
		}
		// The session's account, or the first one left when the user has lost it since.
		for _, a := range in.accounts {
			if a.ID == sess.AccountID {
				in.account = a
			}
		}
		if in.account == nil && len(in.accounts) > 0 {
			in.account = in.accounts[0]
		}
		if !inAccount {
			h(w, r, in)
			return
		}
		if in.account == nil {
			// Without an account a user may still join one they were invited to.
			if r.URL.Path == "/invitations" ||
				strings.HasPrefix(r.URL.Path, "/invitations/") {
				h(w, r, in)
				return
			}
			c.render(w, r, http.StatusForbidden, "noaccount.html", in.view("No account", "", nil))
			return
		}
		if in.p, err = c.svc.SessionPrincipal(ctx, user.ID, in.account.ID); err != nil {
			c.renderError(w, r, in, err)
			return
		}
		h(w, r, in)
	})
}

// toSignIn sends a visitor without a session to the sign-in form, coming back here after.
func (c *Console) toSignIn(w http.ResponseWriter, r *http.Request) {
	target := "/signin"
	if r.Method == http.MethodGet && r.URL.Path != "/" {
		target += "?next=" + url.QueryEscape(r.URL.RequestURI())
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// localPath returns next when it is a path on this site, else "/": no open redirects.
func localPath(next string) string {
	if next == "" || next[0] != '/' || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" {
		return "/"
	}
	return next
}

type signInData struct {
	Email   string
	Next    string
	Token   string // double-submit token
	Error   string
	Limited bool
}

// signInPage shows the form; a visitor already signed in goes straight in.
func (c *Console) signInPage(w http.ResponseWriter, r *http.Request) {
	if _, _, err := c.svc.Session(r.Context(), c.cookie(r, sessionCookie)); err == nil {
		http.Redirect(w, r, localPath(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	c.showSignIn(w, r, http.StatusOK, signInData{Next: r.URL.Query().Get("next")})
}

func (c *Console) showSignIn(w http.ResponseWriter, r *http.Request, status int, d signInData) {
	// A fresh double-submit token each time the form is shown: a page from another site cannot
	// read it, so it cannot sign a victim into the attacker's account (login CSRF).
	b := make([]byte, 32)
	if _, err := io.ReadFull(c.opts.Rand, b); err != nil {
		c.renderError(w, r, nil, err)
		return
	}
	d.Token = base64.RawURLEncoding.EncodeToString(b)
	c.setCookie(w, r, signInCookie, d.Token, 3600, http.SameSiteStrictMode)
	d.Next = localPath(d.Next)
	c.render(w, r, status, "signin.html", &view{Title: "Sign in", Flash: flashMessage(r), Data: d})
}

// signIn checks the form, then the service checks the password (within its limit on guesses)
// and the IP restrictions, and starts a session.
func (c *Console) signIn(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		c.renderError(w, r, nil, tokend.Errorf(tokend.EInvalid, "The form could not be read."))
		return
	}
	email := tokend.NormalizeEmail(r.PostForm.Get("email"))
	d := signInData{Email: email, Next: r.PostForm.Get("next")}
	want := c.cookie(r, signInCookie)
	if got := r.PostForm.Get("csrf"); want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		d.Error = "The sign-in form expired. Try again."
		c.showSignIn(w, r, http.StatusForbidden, d)
		return
	}
	ip := edge.ClientFrom(r.Context()).IP
	ctx := r.Context()
	_, raw, err := c.svc.SignIn(ctx, email, r.PostForm.Get("password"), ip, r.UserAgent())
	switch tokend.ErrorCode(err) {
	case "":
	case tokend.EUnauthenticated:
		d.Error = tokend.ErrorMessage(err)
		c.showSignIn(w, r, http.StatusUnauthorized, d)
		return
	case tokend.ERateLimited:
		edge.Fail(w, r, err) // Retry-After
		d.Error = "Too many failed sign-ins. Wait " + waitText(err) + " and try again."
		d.Limited = true
		c.showSignIn(w, r, http.StatusTooManyRequests, d)
		return
	default:
		c.renderError(w, r, nil, err)
		return
	}
	// A session the browser already had ends here: one sign-in, one live session id.
	if old := c.cookie(r, sessionCookie); old != "" {
		if err := c.svc.SignOut(ctx, old); err != nil {
			c.log.Warn("end the previous console session", "err", err)
		}
	}
	c.setCookie(w, r, signInCookie, "", -1, http.SameSiteStrictMode)
	// The browser drops the cookie with the session's absolute end; the server enforces both
	// ends whatever the browser keeps.
	c.setCookie(w, r, sessionCookie, raw, int(tokend.SessionMaxLifetime.Seconds()), http.SameSiteLaxMode)
	http.Redirect(w, r, localPath(d.Next), http.StatusSeeOther)
}

func (c *Console) signOut(w http.ResponseWriter, r *http.Request, in *signedIn) {
	if err := c.svc.SignOut(r.Context(), c.cookie(r, sessionCookie)); err != nil {
		c.renderError(w, r, in, err)
		return
	}
	c.setCookie(w, r, sessionCookie, "", -1, http.SameSiteLaxMode)
	http.Redirect(w, r, "/signin?done=signed_out", http.StatusSeeOther)
}

// switchAccount is the account switcher: it makes another of the user's accounts current.
func (c *Console) switchAccount(w http.ResponseWriter, r *http.Request, in *signedIn) {
	id, err := strconv.ParseInt(r.PostForm.Get("account_id"), 10, 64)
	if err != nil || id <= 0 {
		c.renderError(w, r, in, tokend.Invalidf("account_id", "Choose an account."))
		return
	}
	if err := c.svc.SetSessionAccount(r.Context(), in.sess, tokend.AccountID(id)); err != nil {
		c.renderError(w, r, in, err)
		return
	}
	next := localPath(r.PostForm.Get("next"))
	sep := "?"
	if strings.Contains(next, "?") {
		sep = "&"
	}
	http.Redirect(w, r, next+sep+"done=switched", http.StatusSeeOther)
}

func (c *Console) home(w http.ResponseWriter, r *http.Request, in *signedIn) {
	http.Redirect(w, r, "/settings/tokens/personal", http.StatusSeeOther)
}

// waitText says how long a rate-limited caller waits, e.g. "30 seconds".
func waitText(err error) string {
	return plural(int(math.Ceil(tokend.RetryAfter(err).Seconds())), "second")
}
