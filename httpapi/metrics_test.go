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
	api := httpapi.New(e.svc, httpapi.Options{Version: "v1.2.3", Commit: "abc123"})
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)
	e.srv = srv // count these requests on this server
	for range 3 {
		e.do("GET", "/api/v3/whoami/", bearer(a.Token), "")
	}
	e.do("GET", "/api/v3/whoami/", "Bearer dbtu_nope", "")
	e.do("GET", "/api/v3/no/such/"+a.Token+"/", "", "")

	rec := httptest.NewRecorder()
	api.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`tokend_http_request_duration_seconds_count{route="GET /api/v3/whoami/{$}",status="200"} 3`,
		`tokend_http_request_duration_seconds_count{route="GET /api/v3/whoami/{$}",status="401"} 1`,
		`tokend_http_request_duration_seconds_count{route="/api/",status="404"} 1`,
		"# TYPE tokend_http_request_duration_seconds histogram",
		`tokend_token_verifications_total{result="cache"} 2`,
		`tokend_token_verifications_total{result="store"} 1`,
		`tokend_token_verifications_total{result="refused"} 1`,
		"tokend_verification_cache_entries 1",
		"tokend_change_feed_seq_lag 0",
		`tokend_authentications_total{kind="pat",outcome="accepted"} 3`,
		`tokend_authentications_total{kind="unknown",outcome="refused"} 1`,
		`tokend_webhook_deliveries_total{outcome="delivered"} 0`,
		`tokend_build_info{commit="abc123",dirty="false",version="v1.2.3"} 1`,
		"go_goroutines ",
		"process_resident_memory_bytes ",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
	if strings.Contains(string(body), a.Token[5:]) {
		t.Errorf("the metrics hold a token")
	}
}
