package httpapi

import (
	"encoding/json"
	"net/http"
	"reflect"
	"time"

	"tokend"
)

// accountJSON is dbt's AccountResponse. tokend has no seats, run slots or billing, so those
// fields carry dbt's documented defaults.
type accountJSON struct {
	ID                               int64     `json:"id"`
	Name                             string    `json:"name"`
	Plan                             string    `json:"plan"`
	State                            int       `json:"state"`
	RunSlots                         int       `json:"run_slots"`
	DeveloperSeats                   int       `json:"developer_seats"`
	ITSeats                          int       `json:"it_seats"`
	ExplorerSeats                    int       `json:"explorer_seats"`
	AnalystSeats                     int       `json:"analyst_seats"`
	ReadOnlySeats                    int       `json:"read_only_seats"`
	Locked                           bool      `json:"locked"`
	LockReason                       string    `json:"lock_reason"`
	LockCause                        *string   `json:"lock_cause"`
	UnlockedAt                       *string   `json:"unlocked_at"`
	PendingCancel                    bool      `json:"pending_cancel"`
	BillingEmailAddress              string    `json:"billing_email_address"`
	PodMemoryRequestMebibytes        int       `json:"pod_memory_request_mebibytes"`
	DevelopPodMemoryRequestMebibytes int       `json:"develop_pod_memory_request_mebibytes"`
	RunDurationLimitSeconds          int       `json:"run_duration_limit_seconds"`
	QueueLimit                       int       `json:"queue_limit"`
	EnterpriseLoginSlug              string    `json:"enterprise_login_slug"`
	BusinessCritical                 bool      `json:"business_critical"`
	StarterRepoURL                   string    `json:"starter_repo_url"`
	GitAuthLevel                     string    `json:"git_auth_level"`
	Identifier                       string    `json:"identifier"`
	TrialEndDate                     *string   `json:"trial_end_date"`
	StaticSubdomain                  string    `json:"static_subdomain"`
	VanitySubdomain                  string    `json:"vanity_subdomain"`
	RunLockedUntil                   *string   `json:"run_locked_until"`
	CopilotLockedUntil               *string   `json:"copilot_locked_until"`
	AgentCreditLocked                bool      `json:"agent_credit_locked"`
	AccountMigrationEvents           []any     `json:"account_migration_events"`
	Groups                           []any     `json:"groups"`
	CreatedAt                        *string   `json:"created_at"`
	UpdatedAt                        *string   `json:"updated_at"`
	Settings                         *settings `json:"tokend_settings,omitempty"`
}

// settings are tokend's own account settings, shown beside dbt's fields.
type settings struct {
	PATMaxLifetimeSeconds int64   `json:"pat_max_lifetime_seconds"`
	LegacyKeysUntil       *string `json:"legacy_keys_until"`
	InactivityDays        int     `json:"inactivity_days"`
	ReuseRevokesChain     bool    `json:"reuse_revokes_chain"`
	OverlapFromFirstUse   bool    `json:"overlap_from_first_use"`
}

func toAccountJSON(a *tokend.Account) accountJSON {
	return accountJSON{
		ID: int64(a.ID), Name: a.Name, Plan: string(a.Plan), State: int(a.State),
		RunSlots: 1, PodMemoryRequestMebibytes: 600, RunDurationLimitSeconds: 86400, QueueLimit: 50,
		Identifier:             "act_" + itoa(int64(a.ID)),
		AccountMigrationEvents: []any{}, Groups: []any{},
		CreatedAt: jsonTime(a.CreatedAt), UpdatedAt: jsonTime(a.UpdatedAt),
		Settings: &settings{
			PATMaxLifetimeSeconds: int64(a.PATMaxLifetime.Seconds()),
			LegacyKeysUntil:       jsonTime(a.LegacyKeysUntil),
			InactivityDays:        a.InactivityDays,
			ReuseRevokesChain:     a.ReuseRevokesChain,
			OverlapFromFirstUse:   a.OverlapFromFirstUse,
		},
	}
}

func (s *Server) listAccounts(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	if _, err := readList(r); err != nil {
		return err
	}
	accts, err := s.svc.Accounts(r.Context(), p)
	if err != nil {
		return err
	}
	out := make([]accountJSON, len(accts))
	for i, a := range accts {
		out[i] = toAccountJSON(a)
	}
	writeList(w, out, len(out), len(out), map[string]any{"limit": tokend.MaxLimit, "offset": 0}, "id")
	return nil
}

func (s *Server) getAccount(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	id, err := pathID[tokend.AccountID](r, "account_id")
	if err != nil {
		return err
	}
	a, err := s.svc.Account(r.Context(), p, id)
	if err != nil {
		return err
	}
	s.writeEncodedOK(w, s.accountJSON.get(a.ID, a))
	return nil
}

type accountRequest struct {
	Name           *string `json:"name"`
	TokendSettings *struct {
		PATMaxLifetimeSeconds *int64 `json:"pat_max_lifetime_seconds"`
		InactivityDays        *int   `json:"inactivity_days"`
		ReuseRevokesChain     *bool  `json:"reuse_revokes_chain"`
		OverlapFromFirstUse   *bool  `json:"overlap_from_first_use"`
		// legacy_keys_until opens (a time) or closes (null) the legacy-key migration window.
		LegacyKeysUntil optionalTime `json:"legacy_keys_until"`
	} `json:"tokend_settings"`
}

func (s *Server) updateAccount(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	id, err := pathID[tokend.AccountID](r, "account_id")
	if err != nil {
		return err
	}
	var req accountRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	u := tokend.AccountUpdate{Name: req.Name}
	if ts := req.TokendSettings; ts != nil {
		u.PATMaxLifetimeSeconds = ts.PATMaxLifetimeSeconds
		u.InactivityDays = ts.InactivityDays
		u.ReuseRevokesChain, u.OverlapFromFirstUse = ts.ReuseRevokesChain, ts.OverlapFromFirstUse
		if ts.LegacyKeysUntil.set {
			u.LegacyKeysUntil = &ts.LegacyKeysUntil.t
		}
	}
	a, err := s.svc.UpdateAccount(r.Context(), p, id, u)
	if err != nil {
		return err
	}
	writeOK(w, toAccountJSON(a))
	return nil
}

// optionalTime tells an absent field (leave alone) from null (clear) and a time (set).
type optionalTime struct {
	set bool
	t   time.Time
}

func (o *optionalTime) UnmarshalJSON(b []byte) error {
	o.set = true
	if string(b) == "null" {
		o.t = time.Time{}
		return nil
	}
	if err := o.t.UnmarshalJSON(b); err != nil {
		// The decoder adds the field's path.
		return &json.UnmarshalTypeError{Value: string(b), Type: reflect.TypeFor[time.Time]()}
	}
	return nil
}
