package client

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
)

// Advice is a token's least-privilege advice: what it used over a window and the narrowest
// grants that would still allow all of it (see the API's advice endpoint).
type Advice struct {
	TokenID    int64            `json:"token_id"`
	Kind       string           `json:"kind"` // "service" or "pat"
	Days       int              `json:"days"`
	Since      string           `json:"since"` // first day of the window, YYYY-MM-DD
	Grants     []Grant          `json:"grants"`
	Used       []UsedCapability `json:"used"`
	Proposed   []Grant          `json:"proposed"`
	Loses      []Scoped         `json:"loses"`
	Powers     []Scoped         `json:"powers"`
	Unused     []Scoped         `json:"unused"`
	Automation bool             `json:"automation"`
	Uncovered  []Capability     `json:"uncovered"`
}

// Capability is a capability in the permission table's names ("projects:read"), in one
// project or (ProjectID nil) account-wide.
type Capability struct {
	Permission string `json:"permission"`
	ProjectID  *int64 `json:"project_id"`
}

// UsedCapability is a capability a token used: how often, and the last day.
type UsedCapability struct {
	Capability
	Count   int64  `json:"count"`
	LastDay string `json:"last_day"`
}

// Scoped is capabilities in one scope: "account", "all_projects" or "project" (ProjectID).
type Scoped struct {
	Scope       string   `json:"scope"`
	ProjectID   *int64   `json:"project_id"`
	Permissions []string `json:"permissions"`
}

// TokenAdvice returns the advice for token tokenID over the last days days (zero: the
// server's default, 30).
func (c *Client) TokenAdvice(ctx context.Context, accountID, tokenID int64, days int) (*Advice, error) {
	var q url.Values
	if days != 0 {
		q = url.Values{"days": {strconv.Itoa(days)}}
	}
	var a Advice
	path := fmt.Sprintf("/api/tokend/v1/accounts/%d/tokens/%d/advice/", accountID, tokenID)
	if err := c.do(ctx, "GET", path, q, nil, &a, nil); err != nil {
		return nil, err
	}
	return &a, nil
}
