package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"tokend"
)

// newRegistry is the server's own metrics registry (no package-level registry): the edge's
// request durations, the service's counters, the build, and the Go runtime and process.
func (s *Server) newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	s.yielded = prometheus.NewCounter(prometheus.CounterOpts{Name: "tokend_refusals_yielded_total",
		Help: "Refused tokens whose answer waited 1 ms because the server was serving verified tokens: a flood slowing itself."})
	reg.MustRegister(
		s.yielded,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		s.edge.Collector(),
		serviceCollector{svc: s.svc, now: s.opts.Now},
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "tokend_build_info",
			Help: "The build that answers: always 1, labelled with its version, commit and whether the tree was dirty.",
			ConstLabels: prometheus.Labels{
				"version": s.opts.Version, "commit": s.opts.Commit, "dirty": strconv.FormatBool(s.opts.Dirty),
			},
		}, func() float64 { return 1 }),
	)
	return reg
}

// Registerer is where other parts of the server register their metrics (for example webhook
// deliveries), so that they are served with the rest.
func (s *Server) Registerer() prometheus.Registerer { return s.reg }

// MetricsHandler serves the server's metrics in the Prometheus formats. Serve it on an internal
// address (tokend serve --metrics-addr).
func (s *Server) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{ErrorLog: slogPrinter{s}})
}

type slogPrinter struct{ s *Server }

func (p slogPrinter) Println(v ...any) { p.s.log.Warn("metrics", "err", v) }

// serviceCollector reads the service's counters at scrape time: the hot path only adds to
// atomics (see tokend.Stats), and nothing here runs per request.
type serviceCollector struct {
	svc *tokend.Service
	now func() time.Time
}

var (
	descVerifications = prometheus.NewDesc("tokend_token_verifications_total",
		"Token verifications, by result: cache (a hit of the verification cache), store (a miss, read from the database), refused.",
		[]string{"result"}, nil)
	descAuth = prometheus.NewDesc("tokend_authentications_total",
		"Authentications of API tokens, by the token's kind (unknown when refused before it was known) and outcome: accepted, refused, rate_limited, ip_refused, unavailable, error.",
		[]string{"kind", "outcome"}, nil)
	descNeverIssued = prometheus.NewDesc("tokend_token_refused_never_issued_total",
		"Refusals of well-formed tokens that the filter of issued tokens answered without the database.", nil, nil)
	descFilterWaits = prometheus.NewDesc("tokend_token_filter_waits_total",
		"Misses of the filter of issued tokens that waited for a read of the change feed: tokens this installation may have minted an instant ago (tagged with its key, or untagged before the seal).", nil, nil)
	descUntaggedSealed = prometheus.NewDesc("tokend_untagged_tokens_sealed",
		"1 once this node knows that no node mints untagged tokens any more (see tokend migrate --seal-untagged-tokens).", nil, nil)
	descCacheEntries = prometheus.NewDesc("tokend_verification_cache_entries", "Verified tokens held in memory.", nil, nil)
	descPendingUses  = prometheus.NewDesc("tokend_pending_token_uses", "Tokens used since the last write of last-used times.", nil, nil)
	descFeedSeq      = prometheus.NewDesc("tokend_change_feed_seq", "The last change-feed entry this node applied.", nil, nil)
	descFeedAge      = prometheus.NewDesc("tokend_change_feed_last_read_age_seconds",
		"Seconds since the last successful read of the change feed began (absent until one succeeds).", nil, nil)
	descFeedLag = prometheus.NewDesc("tokend_change_feed_seq_lag",
		"Change-feed entries other nodes announced that this node has not applied yet (0 with one node).", nil, nil)
	descTrusted = prometheus.NewDesc("tokend_caches_trusted",
		"1 while the change feed is readable and caches answer; 0 while every verification reads the database.", nil, nil)
	descSlowHashes = prometheus.NewDesc("tokend_slow_hashes_total", "Slow hashes run for old-format tokens and legacy keys.", nil, nil)
	descWebhooks   = prometheus.NewDesc("tokend_webhook_deliveries_total",
		"Webhook delivery attempts of this node, by outcome: delivered (2xx), retry (refused or failed, tried again later), failed (refused or failed, retries over).",
		[]string{"outcome"}, nil)
)

func (c serviceCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descAuth, descVerifications, descNeverIssued, descFilterWaits, descUntaggedSealed,
		descCacheEntries, descPendingUses,
		descFeedSeq, descFeedAge, descFeedLag, descTrusted, descSlowHashes, descWebhooks} {
		ch <- d
	}
}

func (c serviceCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.svc.Stats()
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
	}
	counter(descVerifications, st.VerifiedFromCache, "cache")
	counter(descVerifications, st.VerifiedFromStore, "store")
	counter(descVerifications, st.Refused, "refused")
	for _, a := range st.Authentications {
		counter(descAuth, a.Count, a.Kind, a.Outcome)
	}
	counter(descNeverIssued, st.RefusedNeverIssued)
	counter(descFilterWaits, st.FilterWaits)
	counter(descSlowHashes, st.SlowHashes)
	for i, n := range st.WebhookAttempts {
		counter(descWebhooks, n, tokend.WebhookOutcomes[i])
	}
	gauge(descCacheEntries, float64(st.CacheEntries))
	gauge(descPendingUses, float64(st.PendingUses))
	gauge(descFeedSeq, float64(st.FeedSeq))
	gauge(descFeedLag, float64(max(st.FeedHeard-st.FeedSeq, 0)))
	if !st.FeedReadAt.IsZero() {
		gauge(descFeedAge, c.now().Sub(st.FeedReadAt).Seconds())
	}
	gauge(descTrusted, boolGauge(st.CachesTrusted))
	gauge(descUntaggedSealed, boolGauge(st.UntaggedSealed))
}

// boolGauge is a gauge's value for b: 1 or 0.
func boolGauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
