package client

import (
	"context"
	"errors"
	"math"
	"net/url"
	"strconv"
	"time"
)

// ServiceToken is a service token as the API shows it. TokenString is set only in the answer to
// a create or a rotation, shown that once.
type ServiceToken struct {
	ID               int64     `json:"id"`
	AccountID        int64     `json:"account_id"`
	UID              string    `json:"uid"`
	Name             string    `json:"name"`
	State            State     `json:"state"`
	TokenString      string    `json:"token_string,omitempty"`
	LastUsed         time.Time `json:"last_used,omitzero"`
	LastUsedIP       string    `json:"last_used_ip,omitempty"`
	PermissionGrants []Grant   `json:"permission_grants"`
	CreatedAt        time.Time `json:"created_at,omitzero"`
	UpdatedAt        time.Time `json:"updated_at,omitzero"`
}

// ServiceTokenRequest describes a new service token.
type ServiceTokenRequest struct {
	Name             string  `json:"name"`
	PermissionGrants []Grant `json:"permission_grants"`
}

func serviceTokensPath(accountID int64) string {
	return "/api/v3/accounts/" + itoa(accountID) + "/service-tokens/"
}

// ListServiceTokens lists the account's service tokens.
func (c *Client) ListServiceTokens(ctx context.Context, accountID int64, o ListOptions) ([]ServiceToken, Page, error) {
	var (
		ts    []ServiceToken
		extra listExtra
	)
	if err := c.do(ctx, "GET", serviceTokensPath(accountID), o.query(), nil, &ts, &extra); err != nil {
		return nil, Page{}, err
	}
	return ts, extra.page(), nil
}

// ServiceToken returns one service token.
func (c *Client) ServiceToken(ctx context.Context, accountID, id int64) (*ServiceToken, error) {
	var t ServiceToken
	if err := c.do(ctx, "GET", serviceTokensPath(accountID)+itoa(id)+"/", nil, nil, &t, nil); err != nil {
		return nil, err
	}
	return &t, nil
}

// CreateServiceToken creates a service token; its TokenString is shown this once.
func (c *Client) CreateServiceToken(ctx context.Context, accountID int64, r ServiceTokenRequest) (*ServiceToken, error) {
	if r.PermissionGrants == nil {
		r.PermissionGrants = []Grant{}
	}
	var t ServiceToken
	if err := c.do(ctx, "POST", serviceTokensPath(accountID), nil, r, &t, nil); err != nil {
		return nil, err
	}
	return &t, nil
}

// RenameServiceToken changes a service token's name.
func (c *Client) RenameServiceToken(ctx context.Context, accountID, id int64, name string) (*ServiceToken, error) {
	var t ServiceToken
	if err := c.do(ctx, "POST", serviceTokensPath(accountID)+itoa(id)+"/", nil, map[string]string{"name": name}, &t, nil); err != nil {
		return nil, err
	}
	return &t, nil
}

// DeleteServiceToken revokes a service token at once.
func (c *Client) DeleteServiceToken(ctx context.Context, accountID, id int64) error {
	return c.do(ctx, "DELETE", serviceTokensPath(accountID)+itoa(id)+"/", nil, nil, nil, nil)
}

// ServiceTokenPermissions returns a service token's grants.
func (c *Client) ServiceTokenPermissions(ctx context.Context, accountID, id int64) ([]Grant, error) {
	var gs []Grant
	if err := c.do(ctx, "GET", serviceTokensPath(accountID)+itoa(id)+"/permissions/", nil, nil, &gs, nil); err != nil {
		return nil, err
	}
	return gs, nil
}

// SetServiceTokenPermissions replaces a service token's grants and returns them.
func (c *Client) SetServiceTokenPermissions(ctx context.Context, accountID, id int64, grants []Grant) ([]Grant, error) {
	if grants == nil {
		grants = []Grant{}
	}
	var gs []Grant
	if err := c.do(ctx, "POST", serviceTokensPath(accountID)+itoa(id)+"/permissions/", nil, grants, &gs, nil); err != nil {
		return nil, err
	}
	return gs, nil
}

// RotateServiceToken replaces a service token with a new one of the same name and grants and
// returns it with its TokenString. The old one stops at once, or after overlap (at most a week).
func (c *Client) RotateServiceToken(ctx context.Context, accountID, id int64, overlap time.Duration) (*ServiceToken, error) {
	if overlap < 0 {
		return nil, errors.New("tokend client: the rotation overlap must not be negative")
	}
	body := map[string]int64{"overlap_seconds": int64(math.Ceil(overlap.Seconds()))}
	var t ServiceToken
	path := "/api/tokend/v1/accounts/" + itoa(accountID) + "/service-tokens/" + itoa(id) + "/rotate/"
	if err := c.do(ctx, "POST", path, nil, body, &t, nil); err != nil {
		return nil, err
	}
	return &t, nil
}

// ListUsers lists the members of an account.
func (c *Client) ListUsers(ctx context.Context, accountID int64, o ListOptions) ([]User, error) {
	var all []User
	for {
		var (
			us    []User
			extra listExtra
		)
		if err := c.do(ctx, "GET", "/api/v3/accounts/"+itoa(accountID)+"/users/", o.query(), nil, &us, &extra); err != nil {
			return nil, err
		}
		all = append(all, us...)
		var more bool
		if o, more = extra.page().Next(o); !more {
			return all, nil
		}
	}
}

// InventoryToken is a token in the account's inventory: a PAT or a service token, without its
// secret.
type InventoryToken struct {
	ID        int64     `json:"id"`
	AccountID int64     `json:"account_id"`
	UserID    int64     `json:"user_id,omitempty"`
	UID       string    `json:"uid"`
	Name      string    `json:"name"`
	State     State     `json:"state"`
	LastUsed  time.Time `json:"last_used,omitzero"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	CreatedAt time.Time `json:"created_at,omitzero"`
}

// InventoryOptions filter the inventory. Kind is "pat" (the default) or "service".
type InventoryOptions struct {
	ListOptions
	Kind           string
	UserID         int64
	LastUsedBefore time.Time
	ExpiresBefore  time.Time
}

// Inventory lists one page of the account's tokens of a kind, for administrators.
func (c *Client) Inventory(ctx context.Context, accountID int64, o InventoryOptions) ([]InventoryToken, Page, error) {
	q := o.query()
	if o.Kind != "" {
		q.Set("kind", o.Kind)
	}
	if o.UserID != 0 {
		q.Set("user_id", strconv.FormatInt(o.UserID, 10))
	}
	setTime(q, "last_used_before", o.LastUsedBefore)
	setTime(q, "expires_before", o.ExpiresBefore)
	var (
		ts    []InventoryToken
		extra listExtra
	)
	if err := c.do(ctx, "GET", "/api/tokend/v1/accounts/"+itoa(accountID)+"/tokens/", q, nil, &ts, &extra); err != nil {
		return nil, Page{}, err
	}
	return ts, extra.page(), nil
}

func setTime(q url.Values, name string, t time.Time) {
	if !t.IsZero() {
		q.Set(name, t.UTC().Format(time.RFC3339))
	}
}

// RevokeTokens revokes tokens of the account by id, all or none, and returns them.
func (c *Client) RevokeTokens(ctx context.Context, accountID int64, ids []int64) ([]InventoryToken, error) {
	var ts []InventoryToken
	body := map[string][]int64{"token_ids": ids}
	if err := c.do(ctx, "POST", "/api/tokend/v1/accounts/"+itoa(accountID)+"/tokens/revoke/", nil, body, &ts, nil); err != nil {
		return nil, err
	}
	return ts, nil
}
