package client

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// TrustPolicy lets CI jobs whose OIDC token matches exchange it for a short-lived service token
// of the account (tokend's keyless CI).
type TrustPolicy struct {
	ID          int64             `json:"id,omitempty"`
	AccountID   int64             `json:"account_id,omitempty"`
	Name        string            `json:"name"`
	Issuer      string            `json:"issuer"`
	Audience    string            `json:"audience"`
	Claims      map[string]string `json:"claims"`
	Permissions []Grant           `json:"permissions"`
	TTLSeconds  int               `json:"ttl_seconds,omitempty"`
	// JWKS is a pinned key set of the issuer (null: discover it).
	JWKS      json.RawMessage `json:"jwks,omitempty"`
	State     State           `json:"state,omitempty"`
	CreatedAt time.Time       `json:"created_at,omitzero"`
	UpdatedAt time.Time       `json:"updated_at,omitzero"`
}

// Grant is a permission set for all projects, or for one (ProjectID, with AllProjects false).
type Grant struct {
	PermissionSet                 string   `json:"permission_set"`
	AllProjects                   bool     `json:"all_projects"`
	ProjectID                     *int64   `json:"project_id,omitempty"`
	WritableEnvironmentCategories []string `json:"writable_environment_categories,omitempty"`
}

func trustPoliciesPath(accountID int64) string {
	return fmt.Sprintf("/api/tokend/v1/accounts/%d/trust-policies/", accountID)
}

// ListTrustPolicies lists the account's trust policies.
func (c *Client) ListTrustPolicies(ctx context.Context, accountID int64, o ListOptions) ([]TrustPolicy, Page, error) {
	var (
		ps    []TrustPolicy
		extra listExtra
	)
	if err := c.do(ctx, "GET", trustPoliciesPath(accountID), o.query(), nil, &ps, &extra); err != nil {
		return nil, Page{}, err
	}
	return ps, extra.page(), nil
}

// TrustPolicy returns one trust policy.
func (c *Client) TrustPolicy(ctx context.Context, accountID, id int64) (*TrustPolicy, error) {
	var out TrustPolicy
	if err := c.do(ctx, "GET", trustPoliciesPath(accountID)+itoa(id)+"/", nil, nil, &out, nil); err != nil {
		return nil, err
	}
	return &out, nil
}

// CreateTrustPolicy adds a trust policy.
func (c *Client) CreateTrustPolicy(ctx context.Context, accountID int64, p TrustPolicy) (*TrustPolicy, error) {
	var out TrustPolicy
	if err := c.do(ctx, "POST", trustPoliciesPath(accountID), nil, p, &out, nil); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteTrustPolicy deletes a trust policy; the service tokens it minted stop working.
func (c *Client) DeleteTrustPolicy(ctx context.Context, accountID, id int64) error {
	return c.do(ctx, "DELETE", fmt.Sprintf("%s%d/", trustPoliciesPath(accountID), id), nil, nil, nil, nil)
}
