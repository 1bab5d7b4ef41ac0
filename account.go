package tokend

import (
	"time"

	"tokend/perm"
)

// Account is a tenant.
type Account struct {
	ID    int64
	Name  string
	Plan  perm.Plan
	State State
	// PATMaxLifetime caps the lifetime of new personal access tokens; zero means no cap.
	PATMaxLifetime time.Duration
	// LegacyKeysUntil, when in the future, is the end of the migration window during which
	// legacy user API keys work for this account.
	LegacyKeysUntil time.Time
	// InactivityDays disables the account's tokens unused for that many days (0: never; else
	// MinInactivityDays to MaxInactivityDays).
	InactivityDays int
	// IPRestrictionsEnabled switches the account's IP restriction rules on.
	IPRestrictionsEnabled bool
	CreatedAt             time.Time
	UpdatedAt             time.Time
}

// LegacyWindowOpen reports whether legacy user API keys work for the account at now.
func (a *Account) LegacyWindowOpen(now time.Time) bool {
	return !a.LegacyKeysUntil.IsZero() && now.Before(a.LegacyKeysUntil)
}
