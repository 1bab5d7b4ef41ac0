package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"tokend"
)

// parsePage reads limit and offset. A limit above 100 is capped, as dbt does; a value that is
// not a non-negative integer is a 400 naming the parameter.
func parsePage(r *http.Request) (tokend.Page, error) {
	q := r.URL.Query()
	var p tokend.Page
	for _, f := range []struct {
		name string
		dst  *int
	}{{"limit", &p.Limit}, {"offset", &p.Offset}} {
		v := q.Get(f.name)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return p, tokend.Invalidf(f.name, "Query parameter %q must be a non-negative integer, got %q.", f.name, v)
		}
		*f.dst = n
	}
	return p.Normalize(), nil
}

// pageFilters is the "filters" object of a list's extra.
func pageFilters(p tokend.Page) map[string]any {
	return map[string]any{"limit": p.Limit, "offset": p.Offset}
}

// parseState reads an optional state filter (1 active, 2 deleted).
func parseState(r *http.Request) (tokend.State, error) {
	v := r.URL.Query().Get("state")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || !tokend.State(n).Valid() {
		return 0, tokend.Invalidf("state", "Query parameter \"state\" must be 1 (active) or 2 (deleted), got %q.", v)
	}
	return tokend.State(n), nil
}

// parseTime reads an optional RFC 3339 time parameter.
func parseTime(r *http.Request, name string) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, tokend.Invalidf(name, "Query parameter %q must be an RFC 3339 time, got %q.", name, v)
	}
	return t, nil
}
