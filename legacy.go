package tokend

import (
	"context"
	"sort"
	"strings"
	"sync"
	"time"

	"tokend/perm"
	"tokend/secret"
)

// Legacy user API keys: one per user, not bound to an account, stored only as a salted slow
// hash. They are retired: a request with one is refused with a message saying how to move to
// a personal access token, unless an account admin has opened a migration window for the
// account, in which case the key works there (with Deprecation and Sunset headers) and every
// use is recorded so its owner can find every place the key is still used.

// MaxLegacyWindow is the longest migration window an account may open.
const MaxLegacyWindow = 366 * 24 * time.Hour

// LegacyUse is one place a legacy key is used: a key, an account, a route, a client. Uses are
// folded in memory and written in batches; Count and the times accumulate.
type LegacyUse struct {
	TokenID    TokenID
	UserID     UserID
	AccountID  AccountID // zero: a route not bound to an account
	Method     string
	Route      string // the route pattern, e.g. "GET /api/v2/accounts/{account_id}/"
	IP         string
	UserAgent  string
	Count      int64
	FirstSeen  time.Time
	LastSeen   time.Time
	LastStatus int
}

// LegacyUseFilter selects recorded uses.
type LegacyUseFilter struct {
	AccountID AccountID // zero: any
	UserID    UserID    // zero: any
	TokenID   TokenID   // zero: any
}

type legacyUseKey struct {
	tokenID                      TokenID
	accountID                    AccountID
	method, route, ip, userAgent string
}

// legacyRecorder folds legacy-key uses in memory, like usageRecorder for last-used times.
type legacyRecorder struct {
	mu      sync.Mutex
	pending map[legacyUseKey]*LegacyUse
}

func newLegacyRecorder() *legacyRecorder {
	return &legacyRecorder{pending: make(map[legacyUseKey]*LegacyUse)}
}

const maxUserAgent = 256

// Places are bounded, since the caller chooses the user agent (and, within reason, the
// address): a key keeps at most maxLegacyPlacesPerKey places of its own; past that, a new place
// is recorded under otherPlace as its address and user agent, one row per route. Between two
// flushes at most maxPendingLegacyPlaces places wait in memory, folded the same way past that.
const (
	maxLegacyPlacesPerKey  = 100
	maxPendingLegacyPlaces = 10_000
	otherPlace             = "(other)"
)

func (r *legacyRecorder) record(u LegacyUse) {
	if len(u.UserAgent) > maxUserAgent {
		u.UserAgent = u.UserAgent[:maxUserAgent]
	}
	u.UserAgent = storable(u.UserAgent)
	k := legacyUseKey{u.TokenID, u.AccountID, u.Method, u.Route, u.IP, u.UserAgent}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.pending[k]; !ok && len(r.pending) >= maxPendingLegacyPlaces {
		u.IP, u.UserAgent = otherPlace, otherPlace
		k.ip, k.userAgent = otherPlace, otherPlace
	}
	if cur, ok := r.pending[k]; ok {
		cur.Count++
		cur.LastSeen, cur.LastStatus = u.LastSeen, u.LastStatus
		return
	}
	u.Count, u.FirstSeen = 1, u.LastSeen
	r.pending[k] = &u
}

func (r *legacyRecorder) flush(ctx context.Context, st Store) error {
	r.mu.Lock()
	if len(r.pending) == 0 {
		r.mu.Unlock()
		return nil
	}
	batch := make([]LegacyUse, 0, len(r.pending))
	for _, u := range r.pending {
		batch = append(batch, *u)
	}
	clear(r.pending)
	r.mu.Unlock()
	batch, err := foldLegacyPlaces(ctx, st, batch)
	if err == nil {
		err = st.RecordLegacyUses(ctx, batch)
	}
	if err != nil {
		r.mu.Lock()
		for _, u := range batch {
			k := legacyUseKey{u.TokenID, u.AccountID, u.Method, u.Route, u.IP, u.UserAgent}
			if cur, ok := r.pending[k]; ok {
				cur.Count += u.Count
				cur.FirstSeen = u.FirstSeen
			} else {
				cp := u
				r.pending[k] = &cp
			}
		}
		r.mu.Unlock()
		return err
	}
	return nil
}

// foldLegacyPlaces rewrites the uses of a key that would give it more than
// maxLegacyPlacesPerKey places to otherPlace, and merges the uses that then share a place.
func foldLegacyPlaces(ctx context.Context, st Store, batch []LegacyUse) ([]LegacyUse, error) {
	known := map[TokenID]map[legacyUseKey]bool{}
	placeOf := func(u LegacyUse) legacyUseKey {
		return legacyUseKey{u.TokenID, u.AccountID, u.Method, u.Route, u.IP, u.UserAgent}
	}
	out := make([]LegacyUse, 0, len(batch))
	at := map[legacyUseKey]int{}
	for _, u := range batch {
		places, ok := known[u.TokenID]
		if !ok {
			stored, err := st.ListLegacyUses(ctx, LegacyUseFilter{TokenID: u.TokenID})
			if err != nil {
				return nil, err
			}
			places = make(map[legacyUseKey]bool, len(stored))
			for _, s := range stored {
				places[placeOf(*s)] = true
			}
			known[u.TokenID] = places
		}
		k := placeOf(u)
		if !places[k] {
			own := 0
			for p := range places {
				if p.ip != otherPlace {
					own++
				}
			}
			if own >= maxLegacyPlacesPerKey {
				u.IP, u.UserAgent = otherPlace, otherPlace
				k = placeOf(u)
			}
			places[k] = true
		}
		if i, ok := at[k]; ok {
			cur := &out[i]
			cur.Count += u.Count
			if u.FirstSeen.Before(cur.FirstSeen) {
				cur.FirstSeen = u.FirstSeen
			}
			if u.LastSeen.After(cur.LastSeen) {
				cur.LastSeen, cur.LastStatus = u.LastSeen, u.LastStatus
			}
			continue
		}
		at[k] = len(out)
		out = append(out, u)
	}
	return out, nil
}

// RecordLegacyUse notes one request made with a legacy key; it never touches the database.
func (s *Service) RecordLegacyUse(p *Principal, accountID AccountID, method, route, ip, userAgent string, status int) {
	if p == nil || p.Kind != KindLegacyKey {
		return
	}
	s.legacy.record(LegacyUse{TokenID: p.TokenID, UserID: p.UserID, AccountID: accountID, Method: method,
		Route: route, IP: ip, UserAgent: userAgent, LastSeen: s.now(), LastStatus: status})
}

// legacyPrincipal builds a legacy key's principal: its user, and the accounts whose migration
// window is open, each with the user's current permissions there.
func (s *Service) legacyPrincipal(ctx context.Context, t *Token) (*Principal, error) {
	u, err := s.store.User(ctx, t.UserID)
	if err != nil {
		if isNotFound(err) {
			return nil, ErrLegacyKeyRetired
		}
		return nil, err
	}
	// A legacy key's rights are its own (its accounts and scopes), not shared, and record no
	// capability uses.
	key := &legacyKey{retired: legacyRetired(u.ID, nil)}
	p := &Principal{Kind: KindLegacyKey, TokenID: t.ID, TokenUID: t.UID, UserID: u.ID,
		rights: &rights{legacy: key}}
	if u.State != StateActive {
		return p, nil
	}
	accts, err := s.store.AccountsOfUser(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	ids := make([]AccountID, len(accts))
	for i, a := range accts {
		ids[i] = a.ID
	}
	key.retired = legacyRetired(u.ID, ids)
	now := s.now()
	for _, a := range accts {
		if !a.LegacyWindowOpen(now) {
			continue
		}
		license, perms, err := s.memberPerms(ctx, a.ID, u.ID)
		if err != nil {
			return nil, err
		}
		if key.scopes == nil {
			key.scopes = make(map[AccountID]legacyScope)
		}
		key.scopes[a.ID] = legacyScope{plan: a.Plan, license: license, perms: perms, until: a.LegacyKeysUntil}
		key.accounts = append(key.accounts, a.ID)
	}
	return p, nil
}

// legacyKey is a legacy key principal's own state.
type legacyKey struct {
	// accounts are the accounts the key may reach (those whose migration window is open).
	accounts []AccountID
	// scopes are its permissions in each of those accounts; ForAccount narrows the principal
	// to one of them.
	scopes map[AccountID]legacyScope
	// retired is the key's refusal outside every window, naming the user's own ids.
	retired *Error
}

// accountLegacy is what ForAccount narrows a legacy key's principal to, held together.
type accountLegacy struct {
	rights   rights
	key      legacyKey
	accounts [1]AccountID
}

// LegacyAccounts are the accounts a legacy key may reach (those whose migration window is
// open); nil for other principals.
func (p *Principal) LegacyAccounts() []AccountID {
	if l := p.legacyKey(); l != nil {
		return l.accounts
	}
	return nil
}

// legacyScope is what a legacy key may do in one account with an open window.
type legacyScope struct {
	plan    perm.Plan
	license perm.License
	perms   perm.Evaluated
	until   time.Time
}

// ForAccount narrows a legacy key's principal to one account, as an account-scoped principal
// with the user's permissions there, and returns the window's end. A closed window is the
// deprecation refusal. Other principals come back unchanged.
func (s *Service) ForAccount(ctx context.Context, p *Principal, accountID AccountID, ip string) (*Principal, time.Time, error) {
	if p == nil || p.Kind != KindLegacyKey {
		return p, time.Time{}, nil
	}
	key := p.legacyKey()
	var sc legacyScope
	ok := false
	if key != nil {
		sc, ok = key.scopes[accountID]
	}
	if !ok || !s.now().Before(sc.until) {
		return nil, time.Time{}, p.legacyRefusal()
	}
	// The narrowed rights, key and account list in one allocation: this runs on every request
	// of a legacy key to an account.
	one := &accountLegacy{rights: rights{perms: sc.perms}, key: legacyKey{retired: key.retired}, accounts: [1]AccountID{accountID}}
	one.key.accounts = one.accounts[:]
	one.rights.legacy = &one.key
	cp := &Principal{Kind: p.Kind, TokenID: p.TokenID, TokenUID: p.TokenUID, AccountID: accountID,
		UserID: p.UserID, Plan: sc.plan, License: sc.license, ExpiresAt: p.ExpiresAt, until: p.until,
		rights: &one.rights}
	// The account's IP restrictions apply to a legacy key as to the account's own tokens.
	if err := s.CheckIP(ctx, cp, ip); err != nil {
		return nil, time.Time{}, err
	}
	return cp, sc.until, nil
}

// LegacyWindowEnd returns the latest end of the open windows a legacy key reaches, for the
// Sunset header on routes not bound to one account.
func (p *Principal) LegacyWindowEnd() time.Time {
	var end time.Time
	l := p.legacyKey()
	if l == nil {
		return time.Time{}
	}
	for _, sc := range l.scopes {
		if sc.until.After(end) {
			end = sc.until
		}
	}
	return end
}

// LegacyKeyInfo describes a user's legacy key without its secret.
type LegacyKeyInfo struct {
	Token *Token // nil when the user has none
}

// checkOwnKey admits the user themselves: a PAT of theirs (in any account) or their legacy key.
func checkOwnKey(p *Principal, userID UserID) error {
	if p == nil {
		return ErrInvalidToken
	}
	if p.Kind == KindService {
		return errNeedsUserContext(userID)
	}
	if p.UserID != userID {
		return Errorf(EForbidden, "A user's API key is managed by that user only (%d), not by user %d.", userID, p.UserID)
	}
	return nil
}

// LegacyKey returns the user's legacy key (its uid, when made and last used; never the key).
func (s *Service) LegacyKey(ctx context.Context, p *Principal, userID UserID) (*Token, error) {
	if err := checkOwnKey(p, userID); err != nil {
		return nil, err
	}
	ts, _, err := s.store.ListTokens(ctx, TokenFilter{Kind: KindLegacyKey, UserID: userID, State: StateActive, Page: Page{Limit: 1}})
	if err != nil {
		return nil, err
	}
	if len(ts) == 0 {
		return nil, Errorf(ENotFound, "User %d has no API key.", userID)
	}
	s.overlayUsage(ts)
	return ts[0], nil
}

// RotateLegacyKey replaces the user's legacy key (creating one if there is none) and returns
// the new key this once. Rotation keeps the key retired: it works only where a window is open.
func (s *Service) RotateLegacyKey(ctx context.Context, p *Principal, userID UserID) (*Token, string, error) {
	if err := checkOwnKey(p, userID); err != nil {
		return nil, "", err
	}
	var (
		t   *Token
		raw string
	)
	// A legacy key's uid is only 8 hex characters, so with many users two can meet: draw again.
	for attempt := 0; ; attempt++ {
		var err error
		t, raw, err = s.rotateLegacyKey(ctx, p, userID)
		if err == nil {
			break
		}
		if ErrorCode(err) != EConflict || attempt == 4 {
			return nil, "", err
		}
	}
	return t, raw, nil
}

func (s *Service) rotateLegacyKey(ctx context.Context, p *Principal, userID UserID) (t *Token, raw string, err error) {
	raw, uid, err := secret.Generate(s.rand, secret.LegacyKey, nil)
	if err != nil {
		return nil, "", err
	}
	slow, err := secret.SlowHash(s.rand, raw, s.opts.SlowHashIterations)
	if err != nil {
		return nil, "", err
	}
	err = s.change(ctx, func(st *txn) error {
		old, _, err := st.ListTokens(ctx, TokenFilter{Kind: KindLegacyKey, UserID: userID, State: StateActive, Page: Page{Limit: MaxLimit}})
		if err != nil {
			return err
		}
		now := s.now()
		for _, o := range old {
			o.State, o.UpdatedAt = StateDeleted, now
			if err := st.UpdateToken(ctx, 0, o); err != nil {
				return err
			}
			st.invalidate(Invalidation{TokenID: o.ID})
		}
		t = &Token{Kind: KindLegacyKey, UserID: userID, CreatedBy: userID, UID: uid, Name: "API key",
			SlowHash: slow, State: StateActive, CreatedAt: now, UpdatedAt: now}
		if err := st.CreateToken(ctx, t); err != nil {
			return err
		}
		e := event(ctx, p, p.AccountID, "legacy_key.rotate", "legacy_key", t.ID)
		e.Detail = map[string]string{"uid": uid}
		st.audit(e)
		return nil
	})
	return t, raw, err
}

// LegacyUsageReport is, for one account, every place each user's legacy key is still used,
// with what to replace it with.
type LegacyUsageReport struct {
	AccountID AccountID
	Users     []LegacyUserUsage
	// Total counts the users with uses, across pages.
	Total int
}

// LegacyReportFilter pages a usage report by user (most recently seen first), or selects one
// user.
type LegacyReportFilter struct {
	UserID UserID // zero: every user
	Page
}

// LegacyPlace is one recorded place with the replacement for it alone.
type LegacyPlace struct {
	LegacyUse
	Suggestion Suggestion
}

// LegacyUserUsage is one user's recorded uses in the account, most recent first.
type LegacyUserUsage struct {
	UserID UserID
	Email  string
	Uses   []LegacyPlace
	// Suggestion is the replacement for the uses that do not need user context: a service
	// token with the narrowest permission set that covers them (empty when every use needs a
	// user, or none fits the plan).
	Suggestion Suggestion
}

// Suggestion says what replaces a legacy key in one place or for a set of uses.
type Suggestion struct {
	Kind          TokenKind // KindPAT where user context is needed, else KindService
	PermissionSet perm.Set  // for a service token
	Reason        string
}

// RouteNeed is what an API route requires of its caller, declared next to the route in the
// API's route table. The legacy-key report's suggestions read it, and the authorization matrix
// test checks every route against it.
type RouteNeed struct {
	Public      bool // no token: the request carries what authorizes it (a leaked token to revoke)
	Any         bool // any token of the account will do (no capability)
	UserContext bool // a PAT of the very user the path names
	// Caps are the capabilities the caller must hold, all of them.
	Caps []Capability
	// Project names the path parameter or body field whose project the capabilities are
	// checked in; empty means account-wide (for a project-level resource: all projects).
	Project string
	// AnyProject: the capabilities held in one project are enough (a list shows those).
	AnyProject bool
	// TokenLicense: a person also needs a license that may manage service tokens (Developer,
	// Analyst).
	TokenLicense bool
	// SCIM: only a SCIM token of the account (and a SCIM token nowhere else).
	SCIM bool
}

// Capability is one (resource, access) pair a route requires.
type Capability struct {
	Resource perm.Resource
	Access   perm.Access
}

// LegacyUsage reports the account's legacy-key uses. It needs read access to the audit log.
// needs maps a route pattern to what it requires (the HTTP layer knows its routes).
func (s *Service) LegacyUsage(ctx context.Context, p *Principal, accountID AccountID, needs map[string]RouteNeed, f LegacyReportFilter) (*LegacyUsageReport, error) {
	if err := authorize(p, accountID, perm.AuditLog, perm.Read, 0); err != nil {
		return nil, err
	}
	return s.legacyUsageReport(ctx, accountID, needs, f.UserID, f.Page.Normalize())
}

// LegacyUsageReport builds the report for accountID without a principal: the operator's CLI.
func (s *Service) LegacyUsageReport(ctx context.Context, accountID AccountID, needs map[string]RouteNeed) (*LegacyUsageReport, error) {
	return s.legacyUsageReport(ctx, accountID, needs, 0, Page{})
}

// legacyUsageReport builds the report of userID (zero: every user), the page of users page
// (a zero Limit: all of them).
func (s *Service) legacyUsageReport(ctx context.Context, accountID AccountID, needs map[string]RouteNeed, userID UserID, page Page) (*LegacyUsageReport, error) {
	// The report reads legacy-key uses only, so only those are written first: a read need not
	// wait for every other batch (token uses, addresses, refusals) to reach the store.
	if err := s.legacy.flush(ctx, s.store); err != nil {
		s.log.Warn("flush legacy-key uses before the report", "err", err)
	}
	acct, err := s.store.Account(ctx, accountID)
	if err != nil {
		return nil, err
	}
	uses, err := s.store.ListLegacyUses(ctx, LegacyUseFilter{AccountID: accountID, UserID: userID})
	if err != nil {
		return nil, err
	}
	byUser := map[UserID][]LegacyUse{}
	var order []UserID
	for _, u := range uses {
		if _, ok := byUser[u.UserID]; !ok {
			order = append(order, u.UserID)
		}
		byUser[u.UserID] = append(byUser[u.UserID], *u)
	}
	rep := &LegacyUsageReport{AccountID: accountID, Total: len(order)}
	if page.Limit > 0 {
		order = order[min(page.Offset, len(order)):min(page.Offset+page.Limit, len(order))]
	}
	for _, uid := range order {
		uses := byUser[uid]
		sort.SliceStable(uses, func(i, j int) bool { return uses[i].LastSeen.After(uses[j].LastSeen) })
		uu := LegacyUserUsage{UserID: uid, Suggestion: suggest(acct.Plan, uses, needs)}
		if u, err := s.store.User(ctx, uid); err == nil {
			uu.Email = u.Email
		}
		for _, u := range uses {
			uu.Uses = append(uu.Uses, LegacyPlace{LegacyUse: u, Suggestion: suggest(acct.Plan, []LegacyUse{u}, needs)})
		}
		rep.Users = append(rep.Users, uu)
	}
	return rep, nil
}

// suggest finds the replacement for a set of uses: a PAT if any needs user context, else the
// service-token permission set with the fewest capabilities that covers all of them and that
// the plan allows.
func suggest(plan perm.Plan, uses []LegacyUse, needs map[string]RouteNeed) Suggestion {
	var required []Capability
	for _, u := range uses {
		n, ok := needs[u.Route]
		if !ok {
			continue
		}
		if n.UserContext {
			return Suggestion{Kind: KindPAT, Reason: "it calls " + u.Route + ", which acts as a user: create a personal access token"}
		}
		required = append(required, n.Caps...)
	}
	best, bestSize := perm.Set(""), 1<<30
	for _, set := range perm.Sets() {
		// A set that grants nothing (one dbt has not documented yet) is no useful suggestion.
		if !plan.AllowsServiceTokenSet(set) || set.Caps() == 0 {
			continue
		}
		e := perm.Evaluate([]perm.Grant{{Set: set, AllProjects: true}})
		ok := true
		for _, n := range required {
			if !e.Allows(n.Resource, n.Access, 0) {
				ok = false
				break
			}
		}
		if size := capCount(set.Caps()); ok && size < bestSize {
			best, bestSize = set, size
		}
	}
	if best == "" {
		return Suggestion{Kind: KindService, Reason: "no single permission set the " + plan.Family() + " plan allows covers these calls"}
	}
	var names []string
	for _, n := range required {
		names = append(names, n.Access.String()+" "+n.Resource.String())
	}
	reason := "no call needs a user; it needs " + strings.Join(dedupe(names), ", ")
	if len(names) == 0 {
		reason = "no call needs a user or a permission beyond the account itself"
	}
	return Suggestion{Kind: KindService, PermissionSet: best, Reason: reason}
}

func capCount(c perm.Caps) int {
	n := 0
	for ; c != 0; c &= c - 1 {
		n++
	}
	return n
}

func dedupe(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}
