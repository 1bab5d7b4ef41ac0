package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// RawResponse is an answer as it came: status, headers and body (at most MaxResponseBytes).
type RawResponse struct {
	StatusCode int
	Header     http.Header
	Body       []byte
}

// Raw sends one request to path (which must start with "/") with the client's credential and
// returns the answer whatever its status, for callers that speak the API themselves, as
// `tokend api` does. query and body may be nil; body is sent as contentType.
func (c *Client) Raw(ctx context.Context, method, path string, query url.Values, body []byte, contentType string) (*RawResponse, error) {
	if c.baseErr != nil {
		return nil, c.baseErr
	}
	if !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "//") {
		return nil, errors.New("tokend client: the path must start with a single /")
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
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, fmt.Errorf("tokend client: %s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	if err := c.authorize(req); err != nil {
		return nil, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return nil, fmt.Errorf("tokend client: %s %s: read response: %w", method, path, err)
	}
	if len(raw) > MaxResponseBytes {
		return nil, fmt.Errorf("tokend client: %s %s: response larger than %d bytes", method, path, MaxResponseBytes)
	}
	return &RawResponse{StatusCode: resp.StatusCode, Header: resp.Header, Body: []byte(c.redact(string(raw)))}, nil
}
