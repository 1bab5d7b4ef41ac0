package httpapi

import (
	"net/http"

	"tokend"
)

// healthz says the process is up; it touches nothing.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeOK(w, map[string]string{"status": "ok", "version": s.opts.Version})
}

// readyz says whether the node can serve: its store answers.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.opts.Ready != nil {
		if err := s.opts.Ready(r); err != nil {
			s.log.Warn("not ready", "err", err)
			writeError(w, r, &tokend.Error{Code: tokend.EUnavailable, Message: "Not ready: the database does not answer.",
				RetryAfter: tokend.RetryUnavailable})
			return
		}
	}
	writeOK(w, readiness{Status: "ready", Version: s.opts.Version, Commit: s.opts.Commit, Dirty: s.opts.Dirty})
}

// readiness is /readyz's answer: ready, and which build answers, so that a rollout can be
// watched node by node.
type readiness struct {
	Status  string `json:"status"`
	Version string `json:"version"`
	Commit  string `json:"commit"`
	Dirty   bool   `json:"dirty"`
}
