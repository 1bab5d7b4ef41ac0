package console

import (
	"net/http"
	"net/url"

	"tokend"
)

// The token lists (personal tokens, service tokens, the inventory) share one search, filter
// and order form. What it sends is read by tokend.ParseTokenQuery, as the JSON API reads it,
// and the store does the filtering.

// defaultTokenOrder puts the newest tokens first.
const defaultTokenOrder = "-created_at"

// orderChoice is one entry of the form's order menu.
type orderChoice struct {
	Value, Label string
}

var tokenOrders = []orderChoice{
	{"-created_at", "Newest first"},
	{"created_at", "Oldest first"},
	{"-last_used_at", "Recently used"},
	{"last_used_at", "Least recently used"},
	{"expires_at", "Expiring soonest"},
	{"name", "Name (A–Z)"},
	{"-name", "Name (Z–A)"},
}

// tokenFilters is what the form shows: the list's address, what was asked, and which filters
// make sense for this list.
type tokenFilters struct {
	Action    string
	Kind      string // the inventory's kind, kept as a hidden field
	Query     tokend.TokenQuery
	Order     string
	Orders    []orderChoice
	Federated bool // offer "federated" (service tokens only)
	Clear     string
}

// readTokenQuery reads the list form's query from r; newest first when no order is asked for.
func readTokenQuery(r *http.Request) (tokend.TokenQuery, error) {
	return tokend.ParseTokenQuery(r.URL.Query(), defaultTokenOrder)
}

func newTokenFilters(r *http.Request, q tokend.TokenQuery, kind string, federated bool) tokenFilters {
	order := q.Params().Get("order_by")
	if order == "" {
		order = "id"
	}
	clear := r.URL.Path
	if kind != "" {
		clear += "?" + url.Values{"kind": {kind}}.Encode()
	}
	return tokenFilters{Action: r.URL.Path, Kind: kind, Query: q, Order: order, Orders: tokenOrders,
		Federated: federated, Clear: clear}
}
