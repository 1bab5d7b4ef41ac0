// Package tokend is the domain of the token service: accounts, users and their memberships,
// projects, groups and grants, the three kinds of API token, and the audit trail. Service holds
// every business and permission rule; Store is the persistence it needs.
package tokend

import "time"

// State is the liveness of an entity, as in the dbt API: 1 active, 2 deleted.
type State int

const (
	StateActive  State = 1
	StateDeleted State = 2
)

// Valid reports whether s is one of the two states the API knows.
func (s State) Valid() bool { return s == StateActive || s == StateDeleted }

// Page selects a window of a list. Limit is capped at MaxLimit.
type Page struct {
	Limit  int
	Offset int
}

// DefaultLimit and MaxLimit follow the dbt API: lists return 100 rows at most.
const (
	DefaultLimit = 100
	MaxLimit     = 100
)

// Normalize applies the defaults and caps.
func (p Page) Normalize() Page {
	if p.Limit <= 0 || p.Limit > MaxLimit {
		p.Limit = DefaultLimit
	}
	if p.Offset < 0 {
		p.Offset = 0
	}
	return p
}

// TimeRange filters by creation time; zero ends are open.
type TimeRange struct {
	Since time.Time
	Until time.Time
}
