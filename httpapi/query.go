package httpapi

import (
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"tokend"
)

// listQuery is a list's query string, read once. Each list names the parameters it takes; any
// other is a 400 naming it, so that a filter tokend does not apply is never silently dropped.
// Every parameter applied is echoed in extra.filters.
type listQuery struct {
	q       url.Values
	page    tokend.Page
	filters map[string]any
}

// everyList are the parameters every list takes: paging, and include_related, which dbt
// documents on every route (tokend has no related objects to include and answers the same).
var everyList = []string{"limit", "offset", "include_related"}

// readList reads r's query string for a list that takes the parameters known (besides
// everyList). A parameter may be spelt with a trailing "[]", as some clients send arrays.
func readList(r *http.Request, known ...string) (*listQuery, error) {
	q := r.URL.Query()
	var unknown []string
	for name := range q {
		base := strings.TrimSuffix(name, "[]")
		if !slices.Contains(everyList, base) && !slices.Contains(known, base) {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		takes := append(slices.Clone(known), everyList...)
		return nil, tokend.Invalidf(unknown[0], "Unknown query parameter %q: this list takes %s.", unknown[0], strings.Join(takes, ", "))
	}
	page, err := parsePage(r)
	if err != nil {
		return nil, err
	}
	return &listQuery{q: q, page: page, filters: pageFilters(page)}, nil
}

// values are every value of parameter name, in both spellings.
func (l *listQuery) values(name string) []string {
	return append(slices.Clone(l.q[name]), l.q[name+"[]"]...)
}

// get is the value of name ("" when absent).
func (l *listQuery) get(name string) string {
	if vs := l.values(name); len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// str reads a string filter and echoes it when set.
func (l *listQuery) str(name string) string {
	v := l.get(name)
	if v != "" {
		l.filters[name] = v
	}
	return v
}

// state reads a list's state filter as dbt documents it: 1 or "active" (the default), 2 or
// "deleted", "all" for both (zero).
func (l *listQuery) state() (tokend.State, error) {
	var st tokend.State
	switch v := l.get("state"); v {
	case "", "1", "active":
		st = tokend.StateActive
	case "2", "deleted":
		st = tokend.StateDeleted
	case "all":
		st = 0
	default:
		return 0, tokend.Invalidf("state", "Query parameter \"state\" must be 1 or \"active\", 2 or \"deleted\", or \"all\", got %q.", v)
	}
	if st == 0 {
		l.filters["state"] = "all"
	} else {
		l.filters["state"] = int(st)
	}
	return st, nil
}

// exactState reads a state filter that is absent (any state), 1 or 2.
func (l *listQuery) exactState() (tokend.State, error) {
	v := l.get("state")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || !tokend.State(n).Valid() {
		return 0, tokend.Invalidf("state", "Query parameter \"state\" must be 1 (active) or 2 (deleted), got %q.", v)
	}
	l.filters["state"] = n
	return tokend.State(n), nil
}

// ids reads dbt's id filters: pk (one id), pk__gt (ids above) and pk__in (a list of ids), in
// the spellings clients use — repeated parameters, a comma list, or "[1,2]".
func (l *listQuery) ids() (tokend.IDSelect, error) {
	var sel tokend.IDSelect
	var err error
	if v := l.get("pk"); v != "" {
		if sel.Eq, err = positiveID("pk", v); err != nil {
			return sel, err
		}
		l.filters["pk"] = sel.Eq
	}
	if v := l.get("pk__gt"); v != "" {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || n < 0 {
			return sel, tokend.Invalidf("pk__gt", "Query parameter \"pk__gt\" must be a non-negative integer, got %q.", v)
		}
		sel.Gt = n
		l.filters["pk__gt"] = n
	}
	if vs := l.values("pk__in"); len(vs) > 0 {
		sel.In = []int64{}
		for _, v := range vs {
			list := strings.TrimSpace(v)
			list = strings.TrimSuffix(strings.TrimPrefix(list, "["), "]")
			for _, item := range strings.Split(list, ",") {
				item = strings.Trim(strings.TrimSpace(item), `"'`)
				if item == "" {
					continue
				}
				id, err := positiveID("pk__in", item)
				if err != nil {
					return sel, err
				}
				if !slices.Contains(sel.In, id) {
					sel.In = append(sel.In, id)
				}
			}
		}
		if len(sel.In) > tokend.MaxIDSelect {
			return sel, tokend.Invalidf("pk__in", "Query parameter \"pk__in\" takes at most %d ids.", tokend.MaxIDSelect)
		}
		l.filters["pk__in"] = sel.In
	}
	return sel, nil
}

func positiveID(name, v string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n <= 0 {
		return 0, tokend.Invalidf(name, "Query parameter %q must hold positive integer ids, got %q.", name, v)
	}
	return n, nil
}

// order reads order_by: a field name, "-" in front for descending; def when absent. Which
// fields a list can be ordered by is the service's to check. It returns the order and its
// spelling for extra.order_by.
func (l *listQuery) order(def string) (tokend.Order, string) {
	v := strings.TrimSpace(l.get("order_by"))
	if v == "" {
		v = def
	}
	o := tokend.Order{Field: strings.TrimPrefix(v, "-"), Desc: strings.HasPrefix(v, "-")}
	return o, v
}

// time reads an optional time parameter: RFC 3339, or a bare date (midnight UTC); endOfDay
// moves a bare date to the end of that day, for the upper end of a range.
func (l *listQuery) time(name string, endOfDay bool) (time.Time, error) {
	v := l.get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, dateOnly, err := parseClientTime(v)
	if err != nil {
		return time.Time{}, tokend.Invalidf(name, "Query parameter %q must be a date (2006-01-02) or an RFC 3339 time, got %q.", name, v)
	}
	if dateOnly && endOfDay {
		t = t.AddDate(0, 0, 1).Add(-time.Microsecond)
	}
	l.filters[name] = *jsonTime(t)
	return t, nil
}

// parseClientTime reads the time formats clients send: RFC 3339, the same without a zone
// (UTC), or a bare date.
func parseClientTime(v string) (t time.Time, dateOnly bool, err error) {
	v = strings.TrimSpace(v)
	if t, err = time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC(), false, nil
	}
	if t, err = time.Parse("2006-01-02T15:04:05.999999999", v); err == nil {
		return t.UTC(), false, nil
	}
	if t, err = time.Parse(time.DateOnly, v); err == nil {
		return t.UTC(), true, nil
	}
	return time.Time{}, false, err
}
