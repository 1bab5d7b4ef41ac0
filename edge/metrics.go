package edge

import (
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// durations is the request duration histogram by route pattern and status. The observer of
// each pair is looked up once and kept, so that a request adds no allocation for metrics: the
// label values are built only the first time a pair is seen. Routes are the mux's patterns
// (a bounded set), never paths.
type durations struct {
	vec *prometheus.HistogramVec

	mu sync.RWMutex
	by map[string]map[int]prometheus.Observer
}

func newDurations() *durations {
	return &durations{
		vec: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tokend_http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by route pattern and status.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "status"}),
		by: make(map[string]map[int]prometheus.Observer),
	}
}

// unmatched is the route label of a request no pattern matched (a 404 or 405 of the mux).
const unmatched = "unmatched"

func (m *durations) observe(route string, status int, d time.Duration) {
	if route == "" {
		route = unmatched
	}
	m.mu.RLock()
	o := m.by[route][status]
	m.mu.RUnlock()
	if o == nil {
		o = m.observer(route, status)
	}
	o.Observe(d.Seconds())
}

func (m *durations) observer(route string, status int) prometheus.Observer {
	m.mu.Lock()
	defer m.mu.Unlock()
	byStatus := m.by[route]
	if byStatus == nil {
		byStatus = make(map[int]prometheus.Observer)
		m.by[route] = byStatus
	}
	o := byStatus[status]
	if o == nil {
		o = m.vec.WithLabelValues(route, strconv.Itoa(status))
		byStatus[status] = o
	}
	return o
}
