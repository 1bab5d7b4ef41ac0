package client

import (
	"context"
	"errors"
	"math"
	"net/url"
	"strconv"
	"time"
)

// PAT is a personal access token as the API shows it. TokenString is set only in the answer to
// a create or a rotation: it is shown that once. A zero time was null (ExpiresAt: never).
type PAT struct {
	ID          int64     `json:"id"`
	AccountID   int64     `json:"account_id"`
	UserID      int64     `json:"user_id"`
	UID         string    `json:"uid"`
	Name        string    `json:"name"`
	State       State     `json:"state"`
	TokenString string    `json:"token_string,omitempty"`
	LastUsed    time.Time `json:"last_used,omitzero"`
	LastUsedIP  string    `json:"last_used_ip,omitempty"`
	ExpiresAt   time.Time `json:"expires_at,omitzero"`
	CreatedAt   time.Time `json:"created_at,omitzero"`
	UpdatedAt   time.Time `json:"updated_at,omitzero"`
}

// PATRequest describes a new personal access token. A nil ExpiresAt takes the account's maximum
// lifetime, or never when the account sets none.
type PATRequest struct {
	Name      string     `json:"name"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// ListOptions page and filter a list. Zero values are left to the server: limit 100, offset 0,
// every state.
type ListOptions struct {
	Limit, Offset int
	State         State
}

func (o ListOptions) query() url.Values {
	q := url.Values{}
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	if o.Offset > 0 {
		q.Set("offset", strconv.Itoa(o.Offset))
	}
	if o.State != 0 {
		q.Set("state", strconv.Itoa(int(o.State)))
	}
	return q
}

// Page is where a list response sits: the limit and offset the server applied, how many rows
// it returned and how many match in all.
type Page struct {
	Limit, Offset     int
	Count, TotalCount int
}

// Next returns the options for the page after p, and false when p was the last.
func (p Page) Next(o ListOptions) (ListOptions, bool) {
	next := p.Offset + p.Count
	if p.Count == 0 || next >= p.TotalCount {
		return o, false
	}
	o.Offset = next
	return o, true
}

type listExtra struct {
	Filters struct {
		Limit  int `json:"limit"`
		Offset int `json:"offset"`
	} `json:"filters"`
	Pagination struct {
		Count      int `json:"count"`
		TotalCount int `json:"total_count"`
	} `json:"pagination"`
}

func (e listExtra) page() Page {
	return Page{Limit: e.Filters.Limit, Offset: e.Filters.Offset,
		Count: e.Pagination.Count, TotalCount: e.Pagination.TotalCount}
}

func patsPath(accountID, userID int64) string {
	return "/api/v3/accounts/" + itoa(accountID) + "/users/" + itoa(userID) + "/account-apikeys/"
}

func patPath(accountID, userID, id int64) string {
	return patsPath(accountID, userID) + itoa(id) + "/"
}

// ListPATs lists a user's personal access tokens in an account; the token must be a PAT of
// that user.
func (c *Client) ListPATs(ctx context.Context, accountID, userID int64, o ListOptions) ([]PAT, Page, error) {
	var (
		ps    []PAT
		extra listExtra
	)
	if err := c.do(ctx, "GET", patsPath(accountID, userID), o.query(), nil, &ps, &extra); err != nil {
		return nil, Page{}, err
	}
	return ps, extra.page(), nil
}

// CreatePAT creates a personal access token. With WithBasicAuth this is how a user gets a first
// token; PAT.TokenString holds the token, shown this once.
func (c *Client) CreatePAT(ctx context.Context, accountID, userID int64, r PATRequest) (*PAT, error) {
	var p PAT
	if err := c.do(ctx, "POST", patsPath(accountID, userID), nil, r, &p, nil); err != nil {
		return nil, err
	}
	return &p, nil
}

// GetPAT returns one personal access token (a deleted one too, with StateDeleted).
func (c *Client) GetPAT(ctx context.Context, accountID, userID, id int64) (*PAT, error) {
	var p PAT
	if err := c.do(ctx, "GET", patPath(accountID, userID, id), nil, nil, &p, nil); err != nil {
		return nil, err
	}
	return &p, nil
}

// RotatePAT replaces a personal access token with a new one of the same name and lifetime and
// returns it with its TokenString. The old token stops at once, or after overlap (rounded up to
// whole seconds, at most seven days).
func (c *Client) RotatePAT(ctx context.Context, accountID, userID, id int64, overlap time.Duration) (*PAT, error) {
	if overlap < 0 {
		return nil, errors.New("tokend client: the rotation overlap must not be negative")
	}
	body := struct {
		OverlapSeconds int64 `json:"overlap_seconds"`
	}{int64(math.Ceil(overlap.Seconds()))}
	var p PAT
	if err := c.do(ctx, "POST", patPath(accountID, userID, id), nil, body, &p, nil); err != nil {
		return nil, err
	}
	return &p, nil
}

// DeletePAT revokes a personal access token at once.
func (c *Client) DeletePAT(ctx context.Context, accountID, userID, id int64) error {
	return c.do(ctx, "DELETE", patPath(accountID, userID, id), nil, nil, nil, nil)
}
