package httpapi

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"tokend"
	"tokend/password"
	"tokend/perm"
	"tokend/sqlite/sqlitetest"
)

// TestRefusalsYieldToVerified: a refused token's answer waits while the server serves
// verified tokens (one verified within busyWindow), and only then.
func TestRefusalsYieldToVerified(t *testing.T) {
	ctx := context.Background()
	svc := tokend.NewService(sqlitetest.Open(t), tokend.Options{PasswordParams: password.Params{Memory: 64, Time: 1, Threads: 1}})
	res, err := svc.Init(ctx, tokend.InitParams{AccountName: "yield", Plan: perm.PlanEnterprise,
		Email: "owner@example.com", Password: "a long enough password"})
	if err != nil {
		t.Fatal(err)
	}
	var now atomic.Int64
	now.Store(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC).UnixNano())
	s := New(svc, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now: func() time.Time { return time.Unix(0, now.Load()) }})
	var slept atomic.Int64
	s.sleep = func(d time.Duration) {
		if d != refusalYield {
			t.Errorf("a refusal waited %v, want %v", d, refusalYield)
		}
		slept.Add(1)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	account := fmt.Sprintf("%s/api/v3/accounts/%d/", srv.URL, res.Account.ID)
	// get sends a request with token and returns its status, which must be want (unless 0).
	get := func(token string, want int) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, account, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if want != 0 && resp.StatusCode != want {
			t.Fatalf("got %d, want %d", resp.StatusCode, want)
		}
		return resp.StatusCode
	}
	const bad = "dbtu_not_a_token"
	steps := []struct {
		what    string
		advance time.Duration
		token   string
		want    int
		slept   int64 // refusals that waited so far
	}{
		{"a refusal on a server that has verified nothing", 0, bad, http.StatusUnauthorized, 0},
		{"a verified request", 0, res.Token, http.StatusOK, 0},
		{"a refusal right after it", time.Millisecond, bad, http.StatusUnauthorized, 1},
		{"a refusal just inside the window", busyWindow - 2*time.Millisecond, bad, http.StatusUnauthorized, 2},
		{"a refusal past the window", 2 * time.Millisecond, bad, http.StatusUnauthorized, 2},
	}
	for _, st := range steps {
		now.Add(int64(st.advance))
		get(st.token, st.want)
		if got := slept.Load(); got != st.slept {
			t.Errorf("%s: %d refusals waited so far, want %d", st.what, got, st.slept)
		}
		var m dto.Metric
		if err := s.yielded.Write(&m); err != nil {
			t.Fatal(err)
		}
		if got := m.GetCounter().GetValue(); got != float64(st.slept) {
			t.Errorf("%s: tokend_refusals_yielded_total is %v, want %d", st.what, got, st.slept)
		}
	}

	// Inside the window, only a refused token waits: once the address has used up its
	// failures, its answers are 429 and do not.
	get(res.Token, http.StatusOK)
	before := slept.Load()
	var refused, limited int64
	for i := 0; i < 200 && limited == 0; i++ {
		switch code := get(bad, 0); code {
		case http.StatusUnauthorized:
			refused++
		case http.StatusTooManyRequests:
			limited++
		default:
			t.Fatalf("a bad token: got %d, want 401 or 429", code)
		}
	}
	if limited == 0 {
		t.Fatal("200 bad tokens from one address: got no 429")
	}
	if got := slept.Load() - before; got != refused {
		t.Errorf("%d refusals (401) and a 429 inside the window: %d waited, want %d", refused, got, refused)
	}
}
