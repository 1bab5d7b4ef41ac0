package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The OAuth endpoints speak OAuth's wire format: form-encoded requests, bare JSON answers and
// RFC 6749 errors.

// OAuth grant and token types.
const (
	GrantTypeDeviceCode    = "urn:ietf:params:oauth:grant-type:device_code"
	GrantTypeTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	TokenTypeJWT           = "urn:ietf:params:oauth:token-type:jwt"
	// CLIClientID is the client id of tokend's own CLI in the device flow.
	CLIClientID = "tokend-cli"
)

// OAuthError is a refusal at an OAuth endpoint: an RFC 6749 error code and description.
type OAuthError struct {
	StatusCode  int
	Code        string // e.g. "authorization_pending", "invalid_grant"
	Description string
	// Interval is the new polling interval (seconds) of a slow_down.
	Interval int
}

func (e *OAuthError) Error() string {
	if e.Description == "" {
		return e.Code
	}
	return e.Code + ": " + e.Description
}

// DeviceAuthorization is the answer to a device login's start (RFC 8628 §3.2).
type DeviceAuthorization struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int    `json:"expires_in"`
	Interval                int    `json:"interval"`
}

// OAuthToken is a token endpoint's success.
type OAuthToken struct {
	AccessToken     string `json:"access_token"`
	IssuedTokenType string `json:"issued_token_type"`
	TokenType       string `json:"token_type"`
	ExpiresIn       int64  `json:"expires_in"`
	AccountID       int64  `json:"account_id"`
	UserID          int64  `json:"user_id"`
	TokenID         int64  `json:"token_id"`
}

// StartDeviceLogin begins the device flow for the CLI on the machine deviceName.
func (c *Client) StartDeviceLogin(ctx context.Context, deviceName string) (*DeviceAuthorization, error) {
	var d DeviceAuthorization
	err := c.postForm(ctx, "/api/tokend/v1/oauth/device/code", url.Values{"client_id": {CLIClientID}, "device_name": {deviceName}}, &d)
	if err != nil {
		return nil, err
	}
	if d.DeviceCode == "" || d.UserCode == "" || d.VerificationURI == "" {
		return nil, fmt.Errorf("tokend client: the device authorization answer is incomplete")
	}
	return &d, nil
}

// PollDeviceLogin asks once for the device flow's token; until the user decides the answer is
// an *OAuthError with code authorization_pending (or slow_down).
func (c *Client) PollDeviceLogin(ctx context.Context, deviceCode string) (*OAuthToken, error) {
	var t OAuthToken
	err := c.postForm(ctx, "/api/tokend/v1/oauth/token", url.Values{"grant_type": {GrantTypeDeviceCode},
		"device_code": {deviceCode}, "client_id": {CLIClientID}}, &t)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// ExchangeToken trades an OIDC ID token (a CI job's) for a short-lived service token of the
// account (RFC 8693).
func (c *Client) ExchangeToken(ctx context.Context, idToken string, accountID int64) (*OAuthToken, error) {
	var t OAuthToken
	err := c.postForm(ctx, "/api/tokend/v1/oauth/token", url.Values{"grant_type": {GrantTypeTokenExchange},
		"subject_token": {idToken}, "subject_token_type": {TokenTypeJWT}, "account_id": {strconv.FormatInt(accountID, 10)}}, &t)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// postForm sends form to an OAuth endpoint and decodes the success into out. No credential
// header is sent: the form is the credential.
func (c *Client) postForm(ctx context.Context, path string, form url.Values, out any) error {
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
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("tokend client: POST %s: %w", path, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes))
	if err != nil {
		return fmt.Errorf("tokend client: POST %s: read response: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
			Interval    int    `json:"interval"`
		}
		if json.Unmarshal(raw, &e) != nil || e.Error == "" {
			return &APIError{StatusCode: resp.StatusCode, Code: resp.StatusCode,
				RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())}
		}
		return &OAuthError{StatusCode: resp.StatusCode, Code: e.Error, Description: e.Description, Interval: e.Interval}
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("tokend client: POST %s: the answer is not JSON", path)
	}
	return nil
}
