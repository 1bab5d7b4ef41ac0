// Package tokend is the domain of the token service: accounts, users and their memberships,
// projects, groups and grants, the three kinds of API token, and the audit trail. Service holds
// every business and permission rule; Store is the persistence it needs.
package tokend

import (
	"strings"
	"time"
)

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

// IDSelect narrows a list by id, as dbt's pk, pk__gt and pk__in filters do. Zero values select
// everything; a non-nil empty In selects nothing.
type IDSelect struct {
	Eq int64   // pk: this id only
	Gt int64   // pk__gt: ids above this one
	In []int64 // pk__in: these ids
}

// MaxIDSelect bounds pk__in.
const MaxIDSelect = 1000

// Order orders a list by one field ("" is id), descending when Desc; ties go by id, in the
// same direction.
type Order struct {
	Field string
	Desc  bool
}

// checkOrder refuses an order by a field the list cannot be ordered by; fields are the ones it
// can ("id" is always among them).
func checkOrder(o Order, fields ...string) error {
	if o.Field == "" || o.Field == "id" {
		return nil
	}
	for _, f := range fields {
		if f == o.Field {
			return nil
		}
	}
	return Invalidf("order_by", "order_by: this list cannot be ordered by %q; it can be by id, %s (prefix \"-\" for descending).",
		o.Field, strings.Join(fields, ", "))
}
