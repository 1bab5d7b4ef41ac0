package tokend

import (
	"cmp"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// TokenQuery is how a person narrows and orders a list of tokens: a search, filters and an
// order. The console's lists and tokend's own JSON list read it from the same query
// parameters through ParseTokenQuery, and the store does the work (TokenFilter), so that a
// page of a filtered list never loads the whole list.
type TokenQuery struct {
	// Search matches a name containing it (case-insensitive) or a uid starting with it.
	Search string
	// Expired: only tokens whose expiry has passed. NeverUsed: only tokens never used.
	Expired   bool
	NeverUsed bool
	// IdleDays: only tokens not used for more than this many days (a token never used counts
	// from its creation); zero: no filter.
	IdleDays int
	// Federated: only tokens minted by a token exchange. Disabled: only tokens disabled for
	// inactivity.
	Federated bool
	Disabled  bool
	// Order is by id when zero.
	Order Order
}

// TokenQueryParams are the query parameters ParseTokenQuery reads.
var TokenQueryParams = []string{"search", "expired", "never_used", "idle_days", "federated", "disabled", "order_by"}

// TokenOrderFields are the fields a token list can be ordered by (besides id); "-" in front
// orders descending.
var TokenOrderFields = []string{"created_at", "last_used_at", "expires_at", "name"}

const (
	// MaxIdleDays bounds idle_days (ten years).
	MaxIdleDays = 3650
	// maxSearch bounds a search, in characters.
	maxSearch = 255
)

// ParseTokenQuery reads a TokenQuery from q; order_by defaults to def ("" is id). Booleans are
// true, 1 or on, and false, 0, off or empty. A value it cannot read is EInvalid naming the
// parameter.
func ParseTokenQuery(q url.Values, def string) (TokenQuery, error) {
	var tq TokenQuery
	tq.Search = strings.TrimSpace(q.Get("search"))
	if utf8.RuneCountInString(tq.Search) > maxSearch {
		return tq, Invalidf("search", "Query parameter \"search\" takes at most %d characters.", maxSearch)
	}
	for _, b := range []struct {
		name string
		dst  *bool
	}{{"expired", &tq.Expired}, {"never_used", &tq.NeverUsed}, {"federated", &tq.Federated}, {"disabled", &tq.Disabled}} {
		switch v := strings.ToLower(strings.TrimSpace(q.Get(b.name))); v {
		case "", "false", "0", "off":
		case "true", "1", "on":
			*b.dst = true
		default:
			return tq, Invalidf(b.name, "Query parameter %q must be true or false, got %q.", b.name, v)
		}
	}
	if v := strings.TrimSpace(q.Get("idle_days")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > MaxIdleDays {
			return tq, Invalidf("idle_days", "Query parameter \"idle_days\" must be a number of days from 0 to %d, got %q.", MaxIdleDays, v)
		}
		tq.IdleDays = n
	}
	v := strings.TrimSpace(q.Get("order_by"))
	if v == "" {
		v = def
	}
	tq.Order = Order{Field: strings.TrimPrefix(v, "-"), Desc: strings.HasPrefix(v, "-")}
	if err := checkOrder(tq.Order, TokenOrderFields...); err != nil {
		return tq, err
	}
	if tq.Order.Field == "id" {
		tq.Order.Field = ""
	}
	return tq, nil
}

// Filtered reports whether the query narrows the list (a search or a filter, not an order).
func (q TokenQuery) Filtered() bool {
	return q.Search != "" || q.Expired || q.NeverUsed || q.IdleDays > 0 || q.Federated || q.Disabled
}

// Params returns the query as the parameters ParseTokenQuery reads, without the empty ones.
func (q TokenQuery) Params() url.Values {
	v := url.Values{}
	if q.Search != "" {
		v.Set("search", q.Search)
	}
	for _, b := range []struct {
		name string
		on   bool
	}{{"expired", q.Expired}, {"never_used", q.NeverUsed}, {"federated", q.Federated}, {"disabled", q.Disabled}} {
		if b.on {
			v.Set(b.name, "true")
		}
	}
	if q.IdleDays > 0 {
		v.Set("idle_days", strconv.Itoa(q.IdleDays))
	}
	if q.Order != (Order{}) {
		o := cmp.Or(q.Order.Field, "id")
		if q.Order.Desc {
			o = "-" + o
		}
		v.Set("order_by", o)
	}
	return v
}

// narrow adds q to f as of now.
func (q TokenQuery) narrow(f TokenFilter, now time.Time) TokenFilter {
	f.Search = q.Search
	f.NeverUsed = q.NeverUsed
	f.Disabled = q.Disabled
	f.Federated = f.Federated || q.Federated
	if q.Expired && (f.ExpiresBefore.IsZero() || now.Before(f.ExpiresBefore)) {
		// An expiry at now has passed (Token.Expired); the store's bound is strict.
		f.ExpiresBefore = now.Add(time.Microsecond)
	}
	if q.IdleDays > 0 {
		f.IdleBefore = now.AddDate(0, 0, -q.IdleDays)
	}
	if slices.Contains(TokenOrderFields, q.Order.Field) {
		f.Order = q.Order
	}
	return f
}
