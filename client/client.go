// Package client is a Go client of tokend's HTTP API (dbt Cloud's paths and envelope). The CLI
// and the end-to-end tests use it.
//
// A credential travels only in the Authorization header: never in a URL, and never in an error
// this package returns.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// MaxResponseBytes bounds how much of a response body is read.
const MaxResponseBytes = 10 << 20

// DefaultTimeout bounds a request whose context has no deadline of its own.
const DefaultTimeout = 30 * time.Second

// DefaultUserAgent is sent unless WithUserAgent says otherwise.
const DefaultUserAgent = "tokend-client"

// Client calls one tokend server with one credential. It is safe for concurrent use.
type Client struct {
	base      *url.URL
	baseErr   error
	hc        *http.Client
	userAgent string
	timeout   time.Duration

	// One credential: a token, or an e-mail and password for HTTP Basic.
	token           string
	email, password string
	basic           bool
}

// Option configures a Client.
type Option func(*Client)

// WithToken authenticates with a token (PAT or service token) as "Authorization: Bearer". It
// replaces any basic auth set before.
func WithToken(token string) Option {
	return func(c *Client) {
		c.token = strings.TrimSpace(token)
		c.email, c.password, c.basic = "", "", false
	}
}

// WithBasicAuth authenticates with an e-mail and password, which tokend accepts only for
// creating a personal access token. It replaces any token set before.
func WithBasicAuth(email, password string) Option {
	return func(c *Client) {
		c.email, c.password, c.basic = email, password, true
		c.token = ""
	}
}

// WithHTTPClient sends requests through hc. Its redirect policy is the caller's; the default
// client follows no redirect, because a redirect would carry the credential elsewhere.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc != nil {
			c.hc = hc
		}
	}
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option {
	return func(c *Client) { c.userAgent = ua }
}

// WithTimeout bounds each request whose context has no deadline (DefaultTimeout otherwise); zero
// or less means no bound beyond the context's.
func WithTimeout(d time.Duration) Option {
	return func(c *Client) { c.timeout = d }
}

// New returns a client of the tokend at baseURL (scheme and host, optionally a path prefix; the
// API's /api/... paths are appended). An unusable baseURL is reported by every call.
func New(baseURL string, opts ...Option) *Client {
	c := &Client{
		hc: &http.Client{
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		userAgent: DefaultUserAgent,
		timeout:   DefaultTimeout,
	}
	c.base, c.baseErr = parseBase(baseURL)
	for _, o := range opts {
		o(c)
	}
	return c
}

// parseBase checks a base URL. Its errors do not echo the URL, which might hold a credential.
func parseBase(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, errors.New("tokend client: the base URL cannot be parsed")
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, errors.New("tokend client: the base URL must be http:// or https:// with a host")
	}
	if u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return nil, errors.New("tokend client: the base URL must not have user info, a query or a fragment")
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// BaseURL returns the server's URL as given to New, without a trailing slash.
func (c *Client) BaseURL() string {
	if c.base == nil {
		return ""
	}
	return c.base.String()
}

// envelope is dbt's response wrapper; data and extra are decoded by the caller.
type envelope struct {
	Status struct {
		Code             int    `json:"code"`
		IsSuccess        bool   `json:"is_success"`
		UserMessage      string `json:"user_message"`
		DeveloperMessage string `json:"developer_message"`
	} `json:"status"`
	Data  json.RawMessage `json:"data"`
	Extra json.RawMessage `json:"extra"`
}

// do sends one request and decodes the envelope's data into data and its extra into extra
// (either may be nil). body, when not nil, is sent as JSON.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body, data, extra any) error {
	if c.baseErr != nil {
		return c.baseErr
	}
	if c.timeout > 0 {
		if _, ok := ctx.Deadline(); !ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, c.timeout)
			defer cancel()
		}
	}
	u := *c.base
	u.Path += path
	u.RawQuery = query.Encode()

	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("tokend client: encode request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return fmt.Errorf("tokend client: %s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	if err := c.authorize(req); err != nil {
		return err
	}

	resp, err := c.hc.Do(req)
	if err != nil {
		// *url.Error names the method and URL only; credentials live in headers.
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return fmt.Errorf("tokend client: %s %s: read response: %w", method, path, err)
	}
	if len(raw) > MaxResponseBytes {
		return fmt.Errorf("tokend client: %s %s: response larger than %d bytes", method, path, MaxResponseBytes)
	}

	ok := resp.StatusCode >= 200 && resp.StatusCode < 300
	if ok && len(bytes.TrimSpace(raw)) == 0 {
		return nil // 204 No Content, as DELETE answers
	}
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		if ok {
			return fmt.Errorf("tokend client: %s %s: %d response is not the JSON envelope", method, path, resp.StatusCode)
		}
		// Not tokend speaking (a proxy, a load balancer): keep the status, drop the body.
		return c.apiError(resp, nil)
	}
	if !ok {
		return c.apiError(resp, &env)
	}
	if data != nil && len(env.Data) > 0 {
		if err := json.Unmarshal(env.Data, data); err != nil {
			return fmt.Errorf("tokend client: %s %s: decode data: %w", method, path, err)
		}
	}
	if extra != nil && len(env.Extra) > 0 {
		if err := json.Unmarshal(env.Extra, extra); err != nil {
			return fmt.Errorf("tokend client: %s %s: decode extra: %w", method, path, err)
		}
	}
	return nil
}

// authorize sets req's credential: the token, or HTTP Basic.
func (c *Client) authorize(req *http.Request) error {
	switch {
	case c.token != "":
		if !headerSafe(c.token) {
			// Checked here so that net/http's own error, whatever it says, never sees it.
			return errors.New("tokend client: the token holds characters that cannot be sent in a header")
		}
		req.Header.Set("Authorization", "Bearer "+c.token)
	case c.basic:
		req.SetBasicAuth(c.email, c.password)
	}
	return nil
}

// headerSafe reports whether s can be a header value as is: visible ASCII only.
func headerSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

func (c *Client) apiError(resp *http.Response, env *envelope) *APIError {
	e := &APIError{StatusCode: resp.StatusCode, Code: resp.StatusCode}
	if env != nil {
		if env.Status.Code != 0 {
			e.Code = env.Status.Code
		}
		e.UserMessage = c.redact(env.Status.UserMessage)
		e.DeveloperMessage = c.redact(env.Status.DeveloperMessage)
	}
	e.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	return e
}

// redact removes this client's token from a server message. tokend never echoes one; a proxy
// in between might.
func (c *Client) redact(s string) string {
	if c.token != "" {
		s = strings.ReplaceAll(s, c.token, "[redacted]")
	}
	return s
}

// parseRetryAfter reads seconds or an HTTP date; zero when absent or unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// Health is what /healthz says: the server is up, and which version it runs.
type Health struct {
	Status  string `json:"status"`
	Version string `json:"version"`
}

// Healthz asks whether the server is up; it needs no credential, and sends none.
func (c *Client) Healthz(ctx context.Context) (*Health, error) {
	anon := *c
	anon.token, anon.basic, anon.email, anon.password = "", false, "", ""
	var h Health
	if err := anon.do(ctx, "GET", "/healthz", nil, nil, &h, nil); err != nil {
		return nil, err
	}
	return &h, nil
}
