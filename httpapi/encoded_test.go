package httpapi

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"tokend"
	"tokend/perm"
)

// The envelope written from cached encodings (encodedCache) must be byte for byte the one
// writeOK and writeList write, whatever the values hold: text that JSON escapes, long lists
// (past the length net/http would send chunked), filters of every kind.
func TestEncodedEnvelopeMatchesWriteJSON(t *testing.T) {
	s := &Server{}
	s.accountJSON = newEncodedCache[tokend.AccountID](2, func(a *tokend.Account) any { return toAccountJSON(a) })
	s.projectJSON = newEncodedCache[tokend.ProjectID](30, func(p *tokend.Project) any { return toProjectJSON(p) })
	at := time.Date(2026, 11, 26, 7, 0, 0, 123456789, time.FixedZone("x", 3600))
	texts := []string{"plain", `quote " backslash \ slash /`, "<html> & 'x'", "tab\tnewline\ncontrol\x01",
		"é ü 日本", "line\u2028para\u2029", "invalid \xff utf-8", ""}
	for i, text := range texts {
		a := &tokend.Account{ID: tokend.AccountID(i + 1), Name: text, Plan: perm.PlanEnterprise, State: tokend.StateActive,
			PATMaxLifetime: 90 * 24 * time.Hour, LegacyKeysUntil: at, InactivityDays: 30, CreatedAt: at, UpdatedAt: at}
		if i%2 == 1 {
			a.LegacyKeysUntil = time.Time{}
		}
		want := httptest.NewRecorder()
		writeOK(want, toAccountJSON(a))
		for range 2 { // encoded, then from the cache
			got := httptest.NewRecorder()
			s.writeEncodedOK(got, s.accountJSON.get(a.ID, a))
			sameResponse(t, fmt.Sprintf("account %q", text), got, want)
		}
	}
	var ps []*tokend.Project
	for i := range 40 {
		p := &tokend.Project{ID: tokend.ProjectID(i + 1), AccountID: 1, Name: texts[i%len(texts)],
			Description: texts[(i+3)%len(texts)], State: tokend.StateActive, CreatedAt: at, UpdatedAt: at.Add(time.Hour)}
		if i%3 == 0 {
			p.Subdirectory = texts[(i+5)%len(texts)]
			p.Refs = tokend.ProjectRefs{ConnectionID: 7, RepositoryID: 8, SemanticLayerConfigID: 9, DocsJobID: 10, FreshnessJobID: 11}
			p.Type = tokend.ProjectHybrid
		}
		ps = append(ps, p)
	}
	for _, tc := range []struct {
		name    string
		n       int
		filters map[string]any
		orderBy string
	}{
		{"empty", 0, map[string]any{"limit": 100, "offset": 0, "state": 1}, "id"},
		{"one", 1, map[string]any{"limit": 100, "offset": 0, "state": "all"}, "id"},
		{"short", 2, map[string]any{"limit": 2, "offset": 5, "state": 1, "name__icontains": `<"x">`}, "-name"},
		{"long", 40, map[string]any{"limit": 100, "offset": 0, "state": 2, "pk__in": []int64{1, 2}, "pk__gt": int64(0)}, "id"},
		{"no filters", 3, nil, ""},
		{"many filters", 3, map[string]any{"limit": 10, "offset": 0, "a": 1.5, "b": true, "c": nil, "d": "2026-11-26T07:00:00.000000Z",
			"e\t": "é", "f": []string{"x"}, "g": -1, "h": int64(-2), "i": "", "j": "line\u2028"}, `"quoted"`},
	} {
		want := httptest.NewRecorder()
		out := make([]projectJSON, tc.n)
		for i, p := range ps[:tc.n] {
			out[i] = toProjectJSON(p)
		}
		writeList(want, out, tc.n, 120, tc.filters, tc.orderBy)
		for range 2 { // encoded, then from the cache (where it holds them)
			got := httptest.NewRecorder()
			writeEncodedList(s, got, s.projectJSON, ps[:tc.n], projectID, 120, tc.filters, tc.orderBy)
			sameResponse(t, "list "+tc.name, got, want)
		}
	}
}

func sameResponse(t *testing.T, what string, got, want *httptest.ResponseRecorder) {
	t.Helper()
	if got.Code != want.Code || got.Header().Get("Content-Type") != want.Header().Get("Content-Type") {
		t.Errorf("%s: got %d %q, want %d %q", what, got.Code, got.Header().Get("Content-Type"), want.Code, want.Header().Get("Content-Type"))
	}
	if !bytes.Equal(got.Body.Bytes(), want.Body.Bytes()) {
		t.Errorf("%s: got body\n%s\nwant\n%s", what, got.Body, want.Body)
	}
	if n := got.Body.Len(); n > chunkAbove && got.Header().Get("Content-Length") != fmt.Sprint(n) {
		t.Errorf("%s: got Content-Length %q, want %d", what, got.Header().Get("Content-Length"), n)
	}
}

// An entry answers only for the value it was made from: another value under the same id (the
// Service's next read after a change) is encoded again, and a full cache starts over.
func TestEncodedCacheFollowsTheValue(t *testing.T) {
	c := newEncodedCache[tokend.ProjectID](2, func(p *tokend.Project) any { return toProjectJSON(p) })
	name := func(b []byte) string {
		_, rest, _ := strings.Cut(string(b), `"name":`)
		n, _, _ := strings.Cut(rest, ",")
		return n
	}
	old := &tokend.Project{ID: 1, Name: "old"}
	if got := name(c.get(1, old)); got != `"old"` {
		t.Fatalf("got name %s, want \"old\"", got)
	}
	renamed := &tokend.Project{ID: 1, Name: "new"}
	if got := name(c.get(1, renamed)); got != `"new"` {
		t.Errorf("another value under the same id: got name %s, want \"new\"", got)
	}
	c.get(2, &tokend.Project{ID: 2, Name: "two"})
	third := &tokend.Project{ID: 3, Name: "three"}
	c.get(3, third)
	if len(c.m) != 1 || c.m[3].v != third {
		t.Errorf("past max: got %d entries, want only the newest", len(c.m))
	}
}

// TestInvalidTokenBody: the refusal of a token, answered from its envelope encoded once, is
// the answer the encoding of the same error gives.
func TestInvalidTokenBody(t *testing.T) {
	answer := func(err error) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		writeError(w, httptest.NewRequest(http.MethodGet, "/api/v3/accounts/1/", nil), err)
		return w
	}
	same := *tokend.ErrInvalidToken // another error with the same fields: encoded anew
	once, anew := answer(tokend.ErrInvalidToken), answer(&same)
	if once.Code != http.StatusUnauthorized || once.Code != anew.Code {
		t.Errorf("got status %d and %d, want 401 for both", once.Code, anew.Code)
	}
	if !reflect.DeepEqual(once.Header(), anew.Header()) {
		t.Errorf("got headers %v, want %v", once.Header(), anew.Header())
	}
	if once.Body.String() != anew.Body.String() {
		t.Errorf("got body %q, want %q", once.Body, anew.Body)
	}
	if !strings.Contains(once.Body.String(), `"user_message":"Invalid token."`) {
		t.Errorf("got body %q, want the envelope of the invalid token", once.Body)
	}
}
