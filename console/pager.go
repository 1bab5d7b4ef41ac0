package console

import (
	"net/http"
	"strconv"

	"tokend"
)

// pageSize is how many rows a list page shows.
const pageSize = 50

// pageOf reads ?offset= into a page of pageSize rows.
func pageOf(r *http.Request) tokend.Page {
	off, _ := strconv.Atoi(r.URL.Query().Get("offset"))
	return tokend.Page{Limit: pageSize, Offset: max(off, 0)}
}

// pager is the "1–50 of 120" line with links to the neighbouring pages.
type pager struct {
	From, To, Total int
	Prev, Next      string // URLs; empty when there is none
	// Past is set on a page beyond the last (an old link, or rows deleted since): the list is
	// not empty, and Prev leads to its last page.
	Past bool
}

func newPager(r *http.Request, p tokend.Page, n, total int) pager {
	pg := pager{Total: total}
	if n > 0 {
		pg.From, pg.To = p.Offset+1, p.Offset+n
	}
	link := func(off int) string {
		q := r.URL.Query()
		q.Del("done")
		q.Del("n")
		q.Set("offset", strconv.Itoa(off))
		return r.URL.Path + "?" + q.Encode()
	}
	switch {
	case n == 0 && total > 0 && p.Offset > 0:
		pg.Past = true
		pg.Prev = link((total - 1) / p.Limit * p.Limit)
	case p.Offset > 0:
		pg.Prev = link(max(p.Offset-p.Limit, 0))
	}
	if p.Offset+n < total {
		pg.Next = link(p.Offset + p.Limit)
	}
	return pg
}
