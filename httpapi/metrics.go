package httpapi

import (
	"fmt"
	"io"
	"net/http"
)

// MetricsHandler serves the Prometheus text format: requests by status class and their time,
// token verifications by outcome, the verification cache's size and the token uses not yet
// written. It holds counts only; serve it on an internal address (tokend serve --metrics-addr).
func (s *Server) MetricsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		s.writeMetrics(w)
	})
}

func (s *Server) writeMetrics(w io.Writer) {
	metric := func(name, typ, help string) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
	}
	metric("tokend_http_requests_total", "counter", "HTTP requests answered, by status class.")
	req := s.edge.Requests()
	for c := 1; c <= 5; c++ {
		fmt.Fprintf(w, "tokend_http_requests_total{code=\"%dxx\"} %d\n", c, req.ByClass[c])
	}
	metric("tokend_http_request_duration_seconds_total", "counter", "Time spent answering HTTP requests.")
	fmt.Fprintf(w, "tokend_http_request_duration_seconds_total %g\n", req.Duration.Seconds())

	st := s.svc.Stats()
	metric("tokend_token_verifications_total", "counter", "Token verifications, by outcome.")
	fmt.Fprintf(w, "tokend_token_verifications_total{result=\"cache\"} %d\n", st.VerifiedFromCache)
	fmt.Fprintf(w, "tokend_token_verifications_total{result=\"store\"} %d\n", st.VerifiedFromStore)
	fmt.Fprintf(w, "tokend_token_verifications_total{result=\"refused\"} %d\n", st.Refused)
	metric("tokend_verification_cache_entries", "gauge", "Verified tokens held in memory.")
	fmt.Fprintf(w, "tokend_verification_cache_entries %d\n", st.CacheEntries)
	metric("tokend_pending_token_uses", "gauge", "Tokens used since the last write of last-used times.")
	fmt.Fprintf(w, "tokend_pending_token_uses %d\n", st.PendingUses)
	metric("tokend_change_feed_seq", "gauge", "The last change-feed entry this node applied.")
	fmt.Fprintf(w, "tokend_change_feed_seq %d\n", st.FeedSeq)
	trusted := 0
	if st.CachesTrusted {
		trusted = 1
	}
	metric("tokend_caches_trusted", "gauge", "1 while the change feed is readable and caches answer; 0 while every verification reads the database.")
	fmt.Fprintf(w, "tokend_caches_trusted %d\n", trusted)
	metric("tokend_slow_hashes_total", "counter", "Slow hashes run for old-format tokens and legacy keys.")
	fmt.Fprintf(w, "tokend_slow_hashes_total %d\n", st.SlowHashes)
}
