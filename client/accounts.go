package client

import (
	"context"
	"strconv"
	"time"
)

// State is the state of an object: 1 active, 2 deleted.
type State int

const (
	StateActive  State = 1
	StateDeleted State = 2
)

func (s State) String() string {
	switch s {
	case StateActive:
		return "active"
	case StateDeleted:
		return "deleted"
	}
	return "state " + strconv.Itoa(int(s))
}

// Account is an account as the API shows it (the fields tokend fills; dbt's billing and seat
// fields are left out). A zero time was null.
type Account struct {
	ID         int64            `json:"id"`
	Name       string           `json:"name"`
	Plan       string           `json:"plan"`
	State      State            `json:"state"`
	Identifier string           `json:"identifier,omitempty"`
	CreatedAt  time.Time        `json:"created_at,omitzero"`
	UpdatedAt  time.Time        `json:"updated_at,omitzero"`
	Settings   *AccountSettings `json:"tokend_settings,omitempty"`
}

// AccountSettings are tokend's own settings of an account.
type AccountSettings struct {
	PATMaxLifetimeSeconds int64     `json:"pat_max_lifetime_seconds"`
	LegacyKeysUntil       time.Time `json:"legacy_keys_until,omitzero"`
	// The token policies: inactivity in days (0: off), and the two rotation policies.
	InactivityDays      int  `json:"inactivity_days"`
	ReuseRevokesChain   bool `json:"reuse_revokes_chain"`
	OverlapFromFirstUse bool `json:"overlap_from_first_use"`
}

// PolicyUpdate changes an account's token policies; a nil field is left as it is.
type PolicyUpdate struct {
	PATMaxLifetimeSeconds *int64 `json:"pat_max_lifetime_seconds,omitempty"`
	InactivityDays        *int   `json:"inactivity_days,omitempty"`
	ReuseRevokesChain     *bool  `json:"reuse_revokes_chain,omitempty"`
	OverlapFromFirstUse   *bool  `json:"overlap_from_first_use,omitempty"`
}

// UpdatePolicies changes the account's token policies (POST /api/v2/accounts/{id}/ with
// tokend_settings) and returns the account as it now is.
func (c *Client) UpdatePolicies(ctx context.Context, id int64, u PolicyUpdate) (*Account, error) {
	body := struct {
		Settings PolicyUpdate `json:"tokend_settings"`
	}{u}
	var a Account
	if err := c.do(ctx, "POST", "/api/v2/accounts/"+itoa(id)+"/", nil, body, &a, nil); err != nil {
		return nil, err
	}
	return &a, nil
}

// User is a user with the memberships (dbt's permissions[]) the token may see.
type User struct {
	ID          int64        `json:"id"`
	Email       string       `json:"email"`
	FirstName   string       `json:"first_name"`
	LastName    string       `json:"last_name"`
	Fullname    string       `json:"fullname"`
	IsActive    bool         `json:"is_active"`
	Permissions []Membership `json:"permissions"`
}

// Membership is a user's license in one account.
type Membership struct {
	ID          int64     `json:"id"`
	AccountID   int64     `json:"account_id"`
	UserID      int64     `json:"user_id"`
	LicenseType string    `json:"license_type"`
	State       State     `json:"state"`
	CreatedAt   time.Time `json:"created_at,omitzero"`
	UpdatedAt   time.Time `json:"updated_at,omitzero"`
}

// Whoami says who the credential is: the user (nil for a service token), the token's account
// and the token itself.
type Whoami struct {
	User    *User     `json:"user"`
	Account *Account  `json:"account"`
	Token   TokenInfo `json:"token"`
}

// TokenInfo describes the token that made a request. AccountID is zero for a token bound to no
// account (a legacy key); ExpiresAt is zero for a token that does not expire.
type TokenInfo struct {
	Kind      string    `json:"kind"`
	UID       string    `json:"uid"`
	AccountID int64     `json:"account_id,omitzero"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// Whoami returns who the client's token is (GET /api/v3/whoami/).
func (c *Client) Whoami(ctx context.Context) (*Whoami, error) {
	var w Whoami
	if err := c.do(ctx, "GET", "/api/v3/whoami/", nil, nil, &w, nil); err != nil {
		return nil, err
	}
	return &w, nil
}

// Accounts returns the accounts the token sees: an account-scoped token sees only its own.
func (c *Client) Accounts(ctx context.Context) ([]Account, error) {
	var as []Account
	if err := c.do(ctx, "GET", "/api/v3/accounts/", nil, nil, &as, nil); err != nil {
		return nil, err
	}
	return as, nil
}

// Account returns one account.
func (c *Client) Account(ctx context.Context, id int64) (*Account, error) {
	var a Account
	if err := c.do(ctx, "GET", "/api/v3/accounts/"+itoa(id)+"/", nil, nil, &a, nil); err != nil {
		return nil, err
	}
	return &a, nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
