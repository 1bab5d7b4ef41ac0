package client

import (
	"context"
	"time"
)

// ChangePassword sets the password of the token's own user; the current one is required.
// Their console sessions end; tokens keep working.
func (c *Client) ChangePassword(ctx context.Context, userID int64, current, next string) error {
	body := map[string]string{"current_password": current, "new_password": next}
	return c.do(ctx, "POST", "/api/tokend/v1/users/"+itoa(userID)+"/password/", nil, body, nil, nil)
}

// PasswordResetLink is a one-time link for a member to set a new password. Code is shown
// this once; Path is the console page with the code in its fragment.
type PasswordResetLink struct {
	UserID    int64     `json:"user_id"`
	Code      string    `json:"code"`
	Path      string    `json:"path"`
	ExpiresAt time.Time `json:"expires_at"`
}

// CreatePasswordReset issues a reset link for a member of the account; lifetime zero means the
// server's default (a day).
func (c *Client) CreatePasswordReset(ctx context.Context, accountID, userID int64, lifetime time.Duration) (*PasswordResetLink, error) {
	var body any = struct{}{}
	if lifetime > 0 {
		body = map[string]int64{"expires_in": int64(lifetime / time.Second)}
	}
	var l PasswordResetLink
	path := "/api/tokend/v1/accounts/" + itoa(accountID) + "/users/" + itoa(userID) + "/password-reset/"
	if err := c.do(ctx, "POST", path, nil, body, &l, nil); err != nil {
		return nil, err
	}
	return &l, nil
}

// ResetPassword redeems a reset link's code; it needs no credential.
func (c *Client) ResetPassword(ctx context.Context, code, next string) error {
	return c.do(ctx, "POST", "/api/tokend/v1/password-reset/", nil, map[string]string{"code": code, "new_password": next}, nil, nil)
}
