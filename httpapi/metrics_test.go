package httpapi_test

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"tokend/httpapi"
)

func TestMetrics(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.initAccount("A", "owner@example.com")
	api := httpapi.New(e.svc, httpapi.Options{})
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)
	e.srv = srv // count these requests on this server
	for range 3 {
		e.do("GET", "/api/v3/whoami/", bearer(a.Token), "")
	}
	e.do("GET", "/api/v3/whoami/", "Bearer dbtu_nope", "")

	rec := httptest.NewRecorder()
	api.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`tokend_http_requests_total{code="2xx"} 3`,
		`tokend_http_requests_total{code="4xx"} 1`,
		`tokend_token_verifications_total{result="cache"} 2`,
		`tokend_token_verifications_total{result="store"} 1`,
		`tokend_token_verifications_total{result="refused"} 1`,
		"tokend_verification_cache_entries 1",
		"# TYPE tokend_http_requests_total counter",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
	if strings.Contains(string(body), a.Token[5:]) {
		t.Errorf("the metrics hold a token")
	}
}
