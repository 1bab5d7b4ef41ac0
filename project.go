package tokend

import "time"

// Project is a unit inside an account; grants may be for all projects or for one.
type Project struct {
	ID          int64
	AccountID   int64
	Name        string
	Description string
	State       State
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// ProjectFilter selects projects of one account.
type ProjectFilter struct {
	AccountID int64
	State     State // zero: any
	// IDs, when non-nil, restricts the list to these projects (used to show only what a
	// principal may read).
	IDs []int64
	Page
}
