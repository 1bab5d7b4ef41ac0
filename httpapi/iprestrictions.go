package httpapi

import (
	"net/http"

	"tokend"
)

// ipRuleJSON is dbt's IPRestrictionRuleResponse. An account has one rule set, so the set's id
// is the account's.
type ipRuleJSON struct {
	ID                      int64        `json:"id"`
	AccountID               int64        `json:"account_id"`
	Name                    string       `json:"name"`
	Description             string       `json:"description"`
	Type                    int          `json:"type"`
	State                   int          `json:"state"`
	IPRestrictionRuleSetID  int64        `json:"ip_restriction_rule_set_id"`
	RuleSetEnabled          bool         `json:"rule_set_enabled"`
	EnabledForServiceTokens bool         `json:"enabled_for_service_tokens"`
	CIDRs                   []ipCIDRJSON `json:"cidrs"`
	CreatedByID             *int64       `json:"created_by_id"`
	CreatedByServiceTokenID *int64       `json:"created_by_service_token_id"`
	CreatedAt               *string      `json:"created_at"`
	UpdatedAt               *string      `json:"updated_at"`
}

// ipCIDRJSON is dbt's IPRestrictionCidr. An IPv6 prefix is in cidr_ipv6 and, as sent, in cidr
// too: Terraform compares cidr with what it sent, and an empty one fails every apply.
type ipCIDRJSON struct {
	IPRestrictionRuleID int64   `json:"ip_restriction_rule_id"`
	CIDR                string  `json:"cidr"`
	CIDRIPv6            *string `json:"cidr_ipv6"`
	Enabled             bool    `json:"enabled"`
	State               int     `json:"state"`
}

func toIPRuleJSON(r *tokend.IPRule, enabled bool) ipRuleJSON {
	out := ipRuleJSON{ID: int64(r.ID), AccountID: int64(r.AccountID), Name: r.Name, Description: r.Description, Type: int(r.Type),
		State: int(r.State), IPRestrictionRuleSetID: int64(r.AccountID), RuleSetEnabled: enabled, EnabledForServiceTokens: true,
		CIDRs: make([]ipCIDRJSON, len(r.CIDRs)), CreatedAt: jsonTime(r.CreatedAt), UpdatedAt: jsonTime(r.UpdatedAt)}
	if r.CreatedBy != 0 {
		id := int64(r.CreatedBy)
		out.CreatedByID = &id
	}
	for i, c := range r.CIDRs {
		cj := ipCIDRJSON{IPRestrictionRuleID: int64(r.ID), CIDR: c, Enabled: true, State: int(r.State)}
		if isIPv6(c) {
			cj.CIDRIPv6 = &c
		}
		out.CIDRs[i] = cj
	}
	return out
}

func isIPv6(cidr string) bool {
	for i := 0; i < len(cidr); i++ {
		if cidr[i] == ':' {
			return true
		}
	}
	return false
}

type ipRuleRequest struct {
	Name           string `json:"name"`
	Description    string `json:"description"`
	Type           int    `json:"type"`
	RuleSetEnabled *bool  `json:"rule_set_enabled"`
	AccountID      *int64 `json:"account_id"`
	CIDRs          []struct {
		CIDR     string  `json:"cidr"`
		CIDRIPv6 *string `json:"cidr_ipv6"`
		State    *int    `json:"state"`
	} `json:"cidrs"`
}

func (req ipRuleRequest) input() tokend.IPRuleInput {
	in := tokend.IPRuleInput{Name: req.Name, Description: req.Description, Type: tokend.IPRuleType(req.Type),
		RuleSetEnabled: req.RuleSetEnabled}
	for _, c := range req.CIDRs {
		if c.State != nil && *c.State == int(tokend.StateDeleted) {
			continue // a deleted entry is dropped from the rule
		}
		v := c.CIDR
		if v == "" && c.CIDRIPv6 != nil {
			v = *c.CIDRIPv6
		}
		in.CIDRs = append(in.CIDRs, v)
	}
	return in
}

func (s *Server) listIPRules(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, err := pathID[tokend.AccountID](r, "account_id")
	if err != nil {
		return err
	}
	if _, err := readList(r); err != nil {
		return err
	}
	rules, enabled, err := s.svc.ListIPRules(r.Context(), p, accountID)
	if err != nil {
		return err
	}
	out := make([]ipRuleJSON, len(rules))
	for i, rule := range rules {
		out[i] = toIPRuleJSON(rule, enabled)
	}
	writeList(w, out, len(out), len(out), map[string]any{"rule_set_enabled": enabled}, "id")
	return nil
}

func (s *Server) getIPRule(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, id, err := accountAnd[tokend.IPRuleID](r, "id")
	if err != nil {
		return err
	}
	rule, enabled, err := s.svc.IPRule(r.Context(), p, accountID, id)
	if err != nil {
		return err
	}
	writeOK(w, toIPRuleJSON(rule, enabled))
	return nil
}

// saveIPRule creates (POST on the collection) or replaces (PUT on a rule) a rule. A
// rule_set_enabled that differs from the account's switch flips it after the rule is saved.
func (s *Server) saveIPRule(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, err := pathID[tokend.AccountID](r, "account_id")
	if err != nil {
		return err
	}
	var id tokend.IPRuleID
	if r.PathValue("id") != "" {
		if id, err = pathID[tokend.IPRuleID](r, "id"); err != nil {
			return err
		}
	}
	var req ipRuleRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.AccountID != nil && tokend.AccountID(*req.AccountID) != accountID {
		return tokend.Invalidf("account_id", "\"account_id\" %d does not match the path's account %d.", *req.AccountID, accountID)
	}
	in := req.input()
	var rule *tokend.IPRule
	if id == 0 {
		rule, err = s.svc.CreateIPRule(r.Context(), p, accountID, in)
	} else {
		rule, err = s.svc.UpdateIPRule(r.Context(), p, accountID, id, in)
	}
	if err != nil {
		return err
	}
	_, enabled, err := s.svc.ListIPRules(r.Context(), p, accountID)
	if err != nil {
		return err
	}
	writeOK(w, toIPRuleJSON(rule, enabled))
	return nil
}

func (s *Server) deleteIPRule(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, id, err := accountAnd[tokend.IPRuleID](r, "id")
	if err != nil {
		return err
	}
	if err := s.svc.DeleteIPRule(r.Context(), p, accountID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type ruleSetJSON struct {
	ID                      int64   `json:"id"`
	AccountID               int64   `json:"account_id"`
	State                   int     `json:"state"`
	Enabled                 bool    `json:"enabled"`
	EnabledForServiceTokens bool    `json:"enabled_for_service_tokens"`
	CreatedAt               *string `json:"created_at"`
	UpdatedAt               *string `json:"updated_at"`
}

// setIPRestrictions switches the account's rule set on or off: {"enabled": bool}.
func (s *Server) setIPRestrictions(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, err := pathID[tokend.AccountID](r, "account_id")
	if err != nil {
		return err
	}
	var req struct {
		Enabled *bool `json:"enabled"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.Enabled == nil {
		return tokend.Invalidf("enabled", "Field \"enabled\" is required.")
	}
	a, err := s.svc.SetIPRestrictions(r.Context(), p, accountID, *req.Enabled, requestIP(r))
	if err != nil {
		return err
	}
	writeOK(w, ruleSetJSON{ID: int64(a.ID), AccountID: int64(a.ID), State: int(tokend.StateActive), Enabled: a.IPRestrictionsEnabled,
		EnabledForServiceTokens: true, CreatedAt: jsonTime(a.CreatedAt), UpdatedAt: jsonTime(a.UpdatedAt)})
	return nil
}
