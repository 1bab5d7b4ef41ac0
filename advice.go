package tokend

import (
	"context"
	"slices"
	"time"

	"tokend/perm"
)

// MaxAdviceDays is the longest window the least-privilege advice looks back over.
const MaxAdviceDays = 365

// automationDays is how many days of a window with use make a PAT look like automation: a
// person's token used that regularly is better replaced by a service token.
const automationDays = 5

// Advice is what a token used over a window and the narrowest grants that would still allow
// all of it. For a service token, Proposed replaces its grants (through the permissions
// endpoint) and Loses is what that takes away; for a PAT, Powers is what its user may do and
// Unused what of it the token never used, and when it looks like automation Proposed is the
// service token that would do its job.
type Advice struct {
	TokenID    TokenID
	Kind       TokenKind
	Days       int
	Since      time.Time // first day of the window, midnight UTC
	Grants     []perm.Grant
	Used       []UsedCapability
	Proposed   []perm.Grant
	Loses      []perm.Scoped
	Powers     []perm.Scoped
	Unused     []perm.Scoped
	Automation bool
	// Uncovered are uses no permission set the account's plan lets a service token hold
	// could allow; the proposal leaves them out.
	Uncovered []perm.Use
}

// UsedCapability is one capability a token used in the window: how often, and the last day.
type UsedCapability struct {
	perm.Use
	Count   int64
	LastDay time.Time
}

// Advice computes the least-privilege advice for token tokenID of accountID over the last days
// days (the caller's own PAT, or any token of the account for those who may read API tokens).
func (s *Service) Advice(ctx context.Context, p *Principal, accountID AccountID, tokenID TokenID, days int) (*Advice, error) {
	if err := checkAccount(p, accountID); err != nil {
		return nil, err
	}
	if days <= 0 || days > MaxAdviceDays {
		return nil, Invalidf("days", "\"days\" must be between 1 and %d.", MaxAdviceDays)
	}
	// The capability first: a caller who may not read the account's tokens reaches only a PAT
	// of their own, and an unknown id, another user's PAT and a service token get the same
	// refusal, so that the answer does not tell which ids exist.
	refused := authorize(p, accountID, perm.ServiceTokens, perm.Read, 0)
	if refused != nil && !p.IsUser() {
		return nil, refused
	}
	t, err := s.store.Token(ctx, accountID, tokenID)
	if err != nil && (refused == nil || !isNotFound(err)) {
		return nil, err
	}
	own := err == nil && p.IsUser() && t.Kind == KindPAT && t.UserID == p.UserID
	if refused != nil && !own {
		return nil, refused
	}
	if t.AccountID != accountID || (t.Kind != KindService && t.Kind != KindPAT) {
		return nil, Errorf(ENotFound, "Token %d not found.", tokenID)
	}
	acct, err := s.account(ctx, accountID)
	if err != nil {
		return nil, err
	}
	today := s.now().UTC().Truncate(24 * time.Hour)
	since := today.AddDate(0, 0, -(days - 1))
	stored, err := s.store.CapabilityUses(ctx, tokenID, since)
	if err != nil {
		return nil, err
	}
	for _, u := range s.capUses.peek(tokenID) {
		if !u.Day.Before(since) {
			stored = append(stored, u)
		}
	}
	a := &Advice{TokenID: tokenID, Kind: t.Kind, Days: days, Since: since, Used: foldUses(stored)}
	uses := make([]perm.Use, len(a.Used))
	for i, u := range a.Used {
		uses[i] = u.Use
	}
	serviceSet := func(set perm.Set) bool { return acct.Plan.AllowsServiceTokenSet(set) }
	switch t.Kind {
	case KindService:
		a.Grants = t.Grants()
		a.Proposed, a.Uncovered = perm.Advise(uses, serviceSet)
		a.Loses = perm.Evaluate(a.Grants).Minus(perm.Evaluate(a.Proposed))
	case KindPAT:
		_, powers, err := s.memberPerms(ctx, accountID, t.UserID)
		if err != nil && err != ErrInvalidToken {
			return nil, err
		}
		a.Powers = powers.Scopes()
		a.Unused = powers.Minus(perm.EvaluateUses(uses))
		active, err := s.store.DailyUses(ctx, tokenID, since)
		if err != nil {
			return nil, err
		}
		n := 0
		for _, d := range active {
			if d.Count > 0 {
				n++
			}
		}
		if a.Automation = n >= automationDays; a.Automation {
			a.Proposed, a.Uncovered = perm.Advise(uses, serviceSet)
		}
	}
	return a, nil
}

// foldUses adds up a token's daily rows per (capability, project), most used first.
func foldUses(rows []CapabilityUse) []UsedCapability {
	idx := map[perm.Use]int{}
	var out []UsedCapability
	for _, r := range rows {
		k := perm.Use{Resource: r.Resource, Access: r.Access, ProjectID: int64(r.ProjectID)}
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, UsedCapability{Use: k})
		}
		out[i].Count += r.Count
		if r.Day.After(out[i].LastDay) {
			out[i].LastDay = r.Day
		}
	}
	slices.SortStableFunc(out, func(a, b UsedCapability) int {
		switch {
		case a.Count != b.Count:
			if a.Count > b.Count {
				return -1
			}
			return 1
		case a.Resource != b.Resource:
			return int(a.Resource) - int(b.Resource)
		case a.Access != b.Access:
			return int(a.Access) - int(b.Access)
		}
		return int(a.ProjectID - b.ProjectID)
	})
	return out
}
