package tokend

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"tokend/perm"
)

// IP restrictions: an account holds allow and deny rules of IPv4/IPv6 CIDRs, switched on
// account-wide. Once on, a request from outside every allow rule (when there are allow rules)
// or inside a deny rule is refused — for PATs, service tokens and the console alike. Deny wins
// over allow, so a deny rule can punch a hole in an allowed range.

// IPRuleType is an IP restriction rule's kind, as in dbt's API.
type IPRuleType int

const (
	IPAllow IPRuleType = 1
	IPDeny  IPRuleType = 2
)

// MaxIPRules and MaxCIDRsPerRule bound an account's rule set.
const (
	MaxIPRules      = 100
	MaxCIDRsPerRule = 500
)

// IPRule is one named allow or deny rule.
type IPRule struct {
	ID          IPRuleID
	AccountID   AccountID
	Name        string
	Description string
	Type        IPRuleType
	CIDRs       []string // canonical prefixes, e.g. "10.0.0.0/8", "2001:db8::/32"
	State       State
	CreatedBy   UserID // user id, zero when a service token made it
	CreatedByST string // service token uid
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// IPRuleInput describes a rule to create or replace.
type IPRuleInput struct {
	Name        string
	Description string
	Type        IPRuleType
	CIDRs       []string
	// RuleSetEnabled, when set, switches the account's rule set on or off with the rule, in
	// the same transaction: a refused switch (it would lock the caller out) saves no rule.
	RuleSetEnabled *bool
}

// IPDenied is the Data of the 403 that answers a request from a blocked address.
type IPDenied struct {
	AccountID           AccountID `json:"account_id"`
	UserID              UserID    `json:"user_id"`
	IsServiceToken      bool      `json:"is_service_token"`
	AccountAccessDenied bool      `json:"account_access_denied"`
}

// ipPolicy is an account's compiled rule set, cached per account and dropped with the
// account's other cached state.
type ipPolicy struct {
	enabled     bool
	allow, deny []netip.Prefix
}

func (p *ipPolicy) permits(addr netip.Addr) bool {
	if !p.enabled {
		return true
	}
	addr = addr.Unmap()
	for _, d := range p.deny {
		if d.Contains(addr) {
			return false
		}
	}
	if len(p.allow) == 0 {
		return true
	}
	for _, a := range p.allow {
		if a.Contains(addr) {
			return true
		}
	}
	return false
}

func compilePolicy(enabled bool, rules []*IPRule) *ipPolicy {
	p := &ipPolicy{enabled: enabled}
	for _, r := range rules {
		if r.State != StateActive {
			continue
		}
		for _, c := range r.CIDRs {
			pfx, err := netip.ParsePrefix(c)
			if err != nil {
				continue // stored rules are canonical; a bad row must not open the gate wider
			}
			if v4, ok := unmapPrefix(pfx); ok {
				pfx = v4 // a row saved before mapped prefixes were refused
			}
			if r.Type == IPDeny {
				p.deny = append(p.deny, pfx)
			} else {
				p.allow = append(p.allow, pfx)
			}
		}
	}
	return p
}

// policyAt returns the account's compiled policy as of now, loading it on first use.
func (s *Service) policyAt(ctx context.Context, accountID AccountID, now time.Time) (*ipPolicy, error) {
	p, _, err := s.policyRead(ctx, accountID, now)
	return p, err
}

// policyRead is policyAt, also returning when the policy was read from the store.
func (s *Service) policyRead(ctx context.Context, accountID AccountID, now time.Time) (*ipPolicy, time.Time, error) {
	trusted := s.trusted(now)
	if trusted {
		if p, at, ok := s.ip.getAt(accountID, now); ok {
			return p, at, nil
		}
	}
	gen := s.cache.generation()
	acct, err := s.account(ctx, accountID)
	if err != nil {
		return nil, time.Time{}, err
	}
	rules, err := s.store.ListIPRules(ctx, accountID)
	if err != nil {
		return nil, time.Time{}, err
	}
	p := compilePolicy(acct.IPRestrictionsEnabled, rules)
	if trusted && s.cache.generation() == gen {
		s.ip.put(accountID, p, now)
	}
	return p, now, nil
}

// CheckIP refuses a principal whose request comes from an address the account's IP
// restrictions block. ip is the client address as the HTTP layer sees it; an address that does
// not parse is blocked whenever restrictions are on.
func (s *Service) CheckIP(ctx context.Context, p *Principal, ip string) error {
	return s.checkIPAt(ctx, p, ip, s.now())
}

// checkIPAt is CheckIP at now (authentication reads the clock once per request).
func (s *Service) checkIPAt(ctx context.Context, p *Principal, ip string, now time.Time) error {
	if p == nil || p.AccountID == 0 {
		return nil
	}
	pol, err := s.policyAt(ctx, p.AccountID, now)
	if err != nil {
		return err
	}
	return pol.check(p, ip)
}

// check refuses p, of pol's account, a request from ip that the policy blocks.
func (pol *ipPolicy) check(p *Principal, ip string) error {
	if !pol.enabled {
		return nil
	}
	addr, err := netip.ParseAddr(ip)
	if err == nil && pol.permits(addr) {
		return nil
	}
	return &Error{Code: EForbidden,
		Message: fmt.Sprintf("Access to this account is not allowed from %s: the account's IP restrictions block it; ask an account admin to allow your address.", ip),
		Data:    IPDenied{AccountID: p.AccountID, UserID: p.UserID, IsServiceToken: p.Kind == KindService, AccountAccessDenied: true}}
}

// ListIPRules lists the account's rules; it needs read access to IP restrictions.
func (s *Service) ListIPRules(ctx context.Context, p *Principal, accountID AccountID) ([]*IPRule, bool, error) {
	if err := authorize(p, accountID, perm.IPRestrictions, perm.Read, 0); err != nil {
		return nil, false, err
	}
	acct, err := s.store.Account(ctx, accountID)
	if err != nil {
		return nil, false, err
	}
	rules, err := s.store.ListIPRules(ctx, accountID)
	return rules, acct.IPRestrictionsEnabled, err
}

// IPRule returns one rule; a deleted one is not found.
func (s *Service) IPRule(ctx context.Context, p *Principal, accountID AccountID, id IPRuleID) (*IPRule, bool, error) {
	if err := authorize(p, accountID, perm.IPRestrictions, perm.Read, 0); err != nil {
		return nil, false, err
	}
	r, err := s.store.IPRule(ctx, accountID, id)
	if err == nil && r.State != StateActive {
		err = Errorf(ENotFound, "IP restriction rule %d not found.", id)
	}
	if err != nil {
		return nil, false, err
	}
	acct, err := s.store.Account(ctx, accountID)
	if err != nil {
		return nil, false, err
	}
	return r, acct.IPRestrictionsEnabled, nil
}

// unmapPrefix returns the IPv4 prefix an IPv4-mapped IPv6 prefix (::ffff:a.b.c.d/n, n ≥ 96)
// stands for.
func unmapPrefix(p netip.Prefix) (netip.Prefix, bool) {
	if !p.Addr().Is4In6() || p.Bits() < 96 {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96), true
}

func normalizeRule(in IPRuleInput) (IPRuleInput, error) {
	if err := checkText("name", in.Name); err != nil {
		return in, err
	}
	if err := checkText("description", in.Description); err != nil {
		return in, err
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || len(in.Name) > 255 {
		return in, Invalidf("name", "The rule name must be 1 to 255 characters.")
	}
	if len(in.Description) > 1024 {
		return in, Invalidf("description", "The description must be at most 1024 characters.")
	}
	if in.Type != IPAllow && in.Type != IPDeny {
		return in, Invalidf("type", "\"type\" must be 1 (allow) or 2 (deny).")
	}
	if len(in.CIDRs) == 0 || len(in.CIDRs) > MaxCIDRsPerRule {
		return in, Invalidf("cidrs", "A rule needs 1 to %d CIDRs.", MaxCIDRsPerRule)
	}
	seen := map[string]bool{}
	var out []string
	for i, c := range in.CIDRs {
		c = strings.TrimSpace(c)
		pfx, err := netip.ParsePrefix(c)
		if err != nil {
			addr, aerr := netip.ParseAddr(c)
			if aerr != nil {
				return in, Invalidf(fmt.Sprintf("cidrs[%d].cidr", i), "%q is not an IPv4 or IPv6 CIDR.", c)
			}
			pfx = netip.PrefixFrom(addr, addr.BitLen())
		}
		if pfx.Addr().Is4In6() {
			// Clients are matched by their IPv4 address, so a mapped prefix would never match.
			// Refused rather than rewritten, so that what is stored is what was sent.
			field := fmt.Sprintf("cidrs[%d].cidr", i)
			if v4, ok := unmapPrefix(pfx); ok {
				return in, Invalidf(field, "%q is an IPv4-mapped IPv6 CIDR; write it as %s.", c, v4.Masked())
			}
			return in, Invalidf(field, "%q mixes IPv4-mapped and other IPv6 addresses; give IPv4 ranges as IPv4 CIDRs.", c)
		}
		canon := pfx.Masked().String()
		if !seen[canon] {
			seen[canon] = true
			out = append(out, canon)
		}
	}
	in.CIDRs = out
	return in, nil
}

// CreateIPRule adds a rule; it needs write access to IP restrictions and an Enterprise+ plan.
// Saving a rule is not checked for lockout (switching the set on is), as in dbt.
func (s *Service) CreateIPRule(ctx context.Context, p *Principal, accountID AccountID, in IPRuleInput) (*IPRule, error) {
	return s.saveIPRule(ctx, p, accountID, 0, in)
}

// UpdateIPRule replaces a rule's name, type and CIDRs.
func (s *Service) UpdateIPRule(ctx context.Context, p *Principal, accountID AccountID, id IPRuleID, in IPRuleInput) (*IPRule, error) {
	return s.saveIPRule(ctx, p, accountID, id, in)
}

// DeleteIPRule deletes a rule. It is not checked for lockout: as in dbt, lockout is checked
// when the rule set is switched on, so that deleting a whole rule set (which Terraform does
// in parallel) succeeds whatever order the deletes land in.
func (s *Service) DeleteIPRule(ctx context.Context, p *Principal, accountID AccountID, id IPRuleID) error {
	if err := authorize(p, accountID, perm.IPRestrictions, perm.Write, 0); err != nil {
		return err
	}
	err := s.change(ctx, func(st *txn) error {
		r, err := st.IPRule(ctx, accountID, id)
		if err != nil {
			return err
		}
		if r.State != StateActive {
			return nil
		}
		r.State, r.UpdatedAt = StateDeleted, s.now()
		if err := st.UpdateIPRule(ctx, r); err != nil {
			return err
		}
		e := event(ctx, p, accountID, "ip_restriction.delete", "ip_restriction_rule", id)
		e.Detail = map[string]string{"name": r.Name}
		st.audit(e)
		st.invalidate(Invalidation{AccountID: accountID})
		return nil
	})
	if err != nil {
		return err
	}
	return nil
}

// requireIPPlan refuses to configure IP restrictions on an account below Enterprise+. Reading,
// deleting rules and switching the set off stay open on every plan, so that an account that
// left Enterprise+ can still see and undo what it had.
func requireIPPlan(p *Principal) error {
	if p.Plan.Family() == "enterprise_plus" {
		return nil
	}
	return Errorf(EForbidden, "IP restrictions are an Enterprise+ feature, and this account is on the %s plan.", p.Plan)
}

func (s *Service) saveIPRule(ctx context.Context, p *Principal, accountID AccountID, id IPRuleID, in IPRuleInput) (*IPRule, error) {
	if err := authorize(p, accountID, perm.IPRestrictions, perm.Write, 0); err != nil {
		return nil, err
	}
	if err := requireIPPlan(p); err != nil {
		return nil, err
	}
	in, err := normalizeRule(in)
	if err != nil {
		return nil, err
	}
	var out *IPRule
	err = s.change(ctx, func(st *txn) error {
		now := s.now()
		action := "ip_restriction.create"
		r := &IPRule{AccountID: accountID, State: StateActive, CreatedBy: p.UserID, CreatedAt: now}
		if p.Kind == KindService {
			r.CreatedBy, r.CreatedByST = 0, p.TokenUID
		}
		if id != 0 {
			var err error
			if r, err = st.IPRule(ctx, accountID, id); err != nil {
				return err
			}
			if r.State != StateActive {
				return Errorf(ENotFound, "IP restriction rule %d not found.", id)
			}
			action = "ip_restriction.update"
		} else {
			rules, err := st.ListIPRules(ctx, accountID)
			if err != nil {
				return err
			}
			if len(rules) >= MaxIPRules {
				return Invalidf("name", "An account may hold at most %d IP restriction rules.", MaxIPRules)
			}
		}
		r.Name, r.Description, r.Type, r.CIDRs, r.UpdatedAt = in.Name, in.Description, in.Type, in.CIDRs, now
		if id == 0 {
			if err := st.CreateIPRule(ctx, r); err != nil {
				return err
			}
		} else if err := st.UpdateIPRule(ctx, r); err != nil {
			return err
		}
		e := event(ctx, p, accountID, action, "ip_restriction_rule", r.ID)
		e.Detail = map[string]string{"name": r.Name, "type": fmt.Sprint(int(r.Type)), "cidrs": strings.Join(r.CIDRs, " ")}
		out = r
		st.audit(e)
		st.invalidate(Invalidation{AccountID: accountID})
		if in.RuleSetEnabled != nil {
			_, err := s.switchIPRestrictions(ctx, st, p, accountID, *in.RuleSetEnabled, RequestMetaFrom(ctx).IP)
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SetIPRestrictions switches the account's rule set on or off. Switching on needs an
// Enterprise+ plan and is refused when the rules would block the caller's own address ip.
func (s *Service) SetIPRestrictions(ctx context.Context, p *Principal, accountID AccountID, enabled bool, ip string) (*Account, error) {
	if err := authorize(p, accountID, perm.IPRestrictions, perm.Write, 0); err != nil {
		return nil, err
	}
	if enabled {
		if err := requireIPPlan(p); err != nil {
			return nil, err
		}
	}
	var out *Account
	err := s.change(ctx, func(st *txn) error {
		var err error
		out, err = s.switchIPRestrictions(ctx, st, p, accountID, enabled, ip)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// switchIPRestrictions turns the account's rule set on or off inside st; switching on is
// refused when the rules (as st sees them) would block ip. No change is no event.
func (s *Service) switchIPRestrictions(ctx context.Context, st *txn, p *Principal, accountID AccountID, enabled bool, ip string) (*Account, error) {
	a, err := st.Account(ctx, accountID)
	if err != nil {
		return nil, err
	}
	if a.IPRestrictionsEnabled == enabled {
		return a, nil
	}
	if enabled {
		if err := requireIPPlan(p); err != nil {
			return nil, err
		}
		if err := s.guardLockout(ctx, st, accountID, ip); err != nil {
			return nil, err
		}
	}
	a.IPRestrictionsEnabled, a.UpdatedAt = enabled, s.now()
	if err := st.UpdateAccount(ctx, a); err != nil {
		return nil, err
	}
	e := event(ctx, p, accountID, "ip_restriction.set", "account", accountID)
	e.Detail = map[string]string{"enabled": fmt.Sprint(enabled)}
	st.audit(e)
	st.invalidate(Invalidation{AccountID: accountID})
	return a, nil
}

// guardLockout refuses to switch the rule set on when the account's rules would block the
// caller's own address, so an admin cannot lock themselves (and their automation) out by
// mistake.
func (s *Service) guardLockout(ctx context.Context, st Store, accountID AccountID, ip string) error {
	rules, err := st.ListIPRules(ctx, accountID)
	if err != nil {
		return err
	}
	addr, err := netip.ParseAddr(ip)
	if err != nil || !compilePolicy(true, rules).permits(addr) {
		return Invalidf("cidrs", "Switching IP restrictions on would block your own address (%s) from this account; add an allow rule for it first.", ip)
	}
	return nil
}
