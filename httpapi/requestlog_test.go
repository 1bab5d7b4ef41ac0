package httpapi_test

import (
	"fmt"
	"strings"
	"testing"
)

// TestRequestLogLine checks the API's request log through the real edge and a real token: each
// line names the request id (the one returned in X-Request-Id), the client address, the token's
// uid, the route pattern and the duration with its unit, and no token string appears anywhere
// in the log, whether the token was accepted, refused, or put in the path.
func TestRequestLogLine(t *testing.T) {
	e := newEnv(t)
	res := e.initAccount("Logs", "owner@logs.example")
	uid := res.TokenUID
	wrong := res.Token[:len(res.Token)-6] + "AAAAAA"
	account := fmt.Sprintf("/api/v3/accounts/%d/", res.Account.ID)
	for _, tc := range []struct {
		name, path, auth string
		status           int
		want             []string
	}{
		{"accepted", account, bearer(res.Token), 200,
			[]string{`route="GET /api/v3/accounts/{account_id}/{$}"`, "token_uid=" + uid, "status=200"}},
		{"refused", account, bearer(wrong), 401,
			[]string{`route="GET /api/v3/accounts/{account_id}/{$}"`, "status=401"}},
		{"token in the query string", "/api/v3/whoami/?token=" + res.Token, bearer(res.Token), 400,
			[]string{`route="GET /api/v3/whoami/{$}"`, "status=400"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("GET", tc.path, tc.auth, "")
			if r.Code != tc.status {
				t.Fatalf("got %d, want %d: %s", r.Code, tc.status, r.Raw)
			}
			id := r.Header.Get("X-Request-Id")
			if id == "" {
				t.Fatal("X-Request-Id: got none, want the request's id")
			}
			var line string
			for l := range strings.SplitSeq(e.logs.String(), "\n") {
				if strings.Contains(l, "msg=request ") && strings.Contains(l, "request_id="+id+" ") {
					line = l
				}
			}
			if line == "" {
				t.Fatalf("got no request line with request_id=%s in:\n%s", id, e.logs)
			}
			for _, want := range append(tc.want, "client=127.0.0.1", "duration_ms=", "method=GET") {
				if !strings.Contains(line, want) {
					t.Errorf("got %s, want it to hold %s", line, want)
				}
			}
		})
	}
	logs := e.logs.String()
	for _, secret := range []string{res.Token, wrong, res.Token[len(res.Token)-20:]} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds a token string (%d characters of it)", len(secret))
		}
	}
}
