package main

import (
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// With --otel-endpoint, a request that carries a W3C traceparent gets a server span in that
// trace, under the caller's span, named by its route pattern, sent over OTLP/HTTP to a
// collector on loopback (here, one the test runs).
func TestTracingExportsSpans(t *testing.T) {
	t.Parallel()
	spans := make(chan *tracepb.Span, 100)
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/traces" {
			http.NotFound(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var req coltracepb.ExportTraceServiceRequest
		if err := proto.Unmarshal(body, &req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		for _, rs := range req.ResourceSpans {
			service := ""
			for _, a := range rs.GetResource().GetAttributes() {
				if a.Key == "service.name" {
					service = a.GetValue().GetStringValue()
				}
			}
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					if service == "tokend" {
						select {
						case spans <- s:
						default:
						}
					}
				}
			}
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Write(nil)
	}))
	t.Cleanup(collector.Close)

	dir := t.TempDir()
	var a initResult
	mustJSON(t, run(t, "init", "--data-dir", dir, "--account-name", "Traced", "--email", "t@example.com", "--json"), &a)
	srv := startServer(t, storage{"sqlite", []string{"--data-dir", dir, "--otel-endpoint", collector.URL}})

	const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	req, err := http.NewRequest("GET", fmt.Sprintf("%s/api/v3/accounts/%d/projects/", srv.url, a.AccountID), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Token "+a.Token)
	req.Header.Set("traceparent", "00-"+traceID+"-"+parentID+"-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("list projects: got %d, want 200", resp.StatusCode)
	}

	// The batch goes out within the exporter's delay (5 s by default).
	deadline := time.After(30 * time.Second)
	for i := 0; i < 1000; i++ {
		select {
		case s := <-spans:
			if hex.EncodeToString(s.TraceId) != traceID {
				continue // another request's
			}
			if got := hex.EncodeToString(s.ParentSpanId); got != parentID {
				t.Errorf("parent span: got %s, want the caller's %s", got, parentID)
			}
			if want := "GET /api/v3/accounts/{account_id}/projects/"; s.Name != want {
				t.Errorf("span name: got %q, want the route pattern %q", s.Name, want)
			}
			if s.Kind != tracepb.Span_SPAN_KIND_SERVER {
				t.Errorf("span kind: got %v, want server", s.Kind)
			}
			return
		case <-deadline:
			t.Fatalf("no span of trace %s reached the collector in 30 s\n%s", traceID, srv.logs)
		}
	}
	t.Fatal("no span of the request's trace among the first 1000")
}
