package tokend

import (
	"strings"
	"time"

	"tokend/perm"
)

// User is a person, global across accounts, identified by e-mail (case-insensitive).
type User struct {
	ID        int64
	Email     string
	FirstName string
	LastName  string
	// PasswordHash is an encoded argon2id hash; empty means the user cannot sign in with a password.
	PasswordHash string
	State        State
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// NormalizeEmail is the form e-mails are stored and compared in.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// Membership is a user in an account with a license: a "permission" / "user license" in the dbt API.
type Membership struct {
	ID        int64
	AccountID int64
	UserID    int64
	License   perm.License
	State     State
	CreatedAt time.Time
	UpdatedAt time.Time
}
