package tokend

import (
	"context"
	"fmt"
	"maps"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"tokend/perm"
)

// A trust policy lets the CI jobs (or cloud workloads) of one OIDC issuer exchange their ID
// token for a short-lived service token of the account, when the token's audience and claims
// match. It is a service-token factory: it holds the grants the minted tokens get, under the
// same rules as a service token's grants.
type TrustPolicy struct {
	ID        TrustPolicyID
	AccountID AccountID
	Name      string
	// Issuer is the OIDC issuer URL, e.g. https://token.actions.githubusercontent.com.
	Issuer string
	// Audience is the aud the ID token must carry.
	Audience string
	// Claims are conditions on the token's claims: name → exact value, or a glob where *
	// stands for any run of characters (slashes included).
	Claims map[string]string
	// Grants are what each minted token holds.
	Grants []perm.Grant
	// TTL is the minted tokens' lifetime.
	TTL time.Duration
	// JWKS, when set, is the issuer's key set pinned here (a JSON Web Key Set): the issuer's
	// discovery document is then not fetched.
	JWKS      string
	State     State
	CreatedBy UserID
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Trust policy limits.
const (
	DefaultFederatedTTL = 15 * time.Minute
	MaxFederatedTTL     = time.Hour
	MinFederatedTTL     = time.Minute
	maxPolicyClaims     = 32
	maxClaimName        = 128
	maxClaimPattern     = 512
	maxIssuerLen        = 512
	maxAudienceLen      = 512
	maxJWKSBytes        = 64 << 10
)

// TrustPolicyFilter selects an account's trust policies.
type TrustPolicyFilter struct {
	AccountID AccountID
	State     State  // zero: any
	Issuer    string // empty: any
	Page
}

// TrustPolicyInput is a new trust policy; a zero TTL means DefaultFederatedTTL.
type TrustPolicyInput struct {
	Name     string
	Issuer   string
	Audience string
	Claims   map[string]string
	Grants   []perm.Grant
	TTL      time.Duration
	JWKS     string
}

// TrustPolicyUpdate carries what an update changes; nil leaves a field alone.
type TrustPolicyUpdate struct {
	Name     *string
	Issuer   *string
	Audience *string
	Claims   map[string]string // nil: unchanged
	Grants   []perm.Grant      // nil: unchanged
	TTL      *time.Duration
	JWKS     *string
}

// ListTrustPolicies lists the account's trust policies; reading them needs read access to
// service tokens.
func (s *Service) ListTrustPolicies(ctx context.Context, p *Principal, accountID AccountID, state State, page Page) ([]*TrustPolicy, int, error) {
	if err := authorizeServiceTokens(p, accountID, perm.Read); err != nil {
		return nil, 0, err
	}
	return s.store.ListTrustPolicies(ctx, TrustPolicyFilter{AccountID: accountID, State: state, Page: page.Normalize()})
}

// TrustPolicy returns one trust policy of the account, deleted ones included.
func (s *Service) TrustPolicy(ctx context.Context, p *Principal, accountID AccountID, id TrustPolicyID) (*TrustPolicy, error) {
	if err := authorizeServiceTokens(p, accountID, perm.Read); err != nil {
		return nil, err
	}
	return s.store.TrustPolicy(ctx, accountID, id)
}

// CreateTrustPolicy adds a trust policy. Its grants follow the service-token rules: within the
// account's plan, and never more than the creator holds.
func (s *Service) CreateTrustPolicy(ctx context.Context, p *Principal, accountID AccountID, in TrustPolicyInput) (*TrustPolicy, error) {
	if err := authorizeServiceTokens(p, accountID, perm.Write); err != nil {
		return nil, err
	}
	if in.TTL == 0 {
		in.TTL = DefaultFederatedTTL
	}
	tp := &TrustPolicy{AccountID: accountID, Name: strings.TrimSpace(in.Name), Issuer: strings.TrimSpace(in.Issuer),
		Audience: strings.TrimSpace(in.Audience), Claims: in.Claims, TTL: in.TTL, JWKS: strings.TrimSpace(in.JWKS),
		State: StateActive, CreatedBy: p.UserID}
	if err := s.validateTrustPolicy(tp); err != nil {
		return nil, err
	}
	err := s.change(ctx, func(st *txn) error {
		acct, err := st.Account(ctx, accountID)
		if err != nil {
			return err
		}
		if tp.Grants, err = s.checkServiceGrants(ctx, st, p, acct, in.Grants); err != nil {
			return prefixField(err, "permissions")
		}
		now := s.now()
		tp.CreatedAt, tp.UpdatedAt = now, now
		if err := st.CreateTrustPolicy(ctx, tp); err != nil {
			return err
		}
		e := event(ctx, p, accountID, "trust_policy.create", "trust_policy", tp.ID)
		e.Detail = trustPolicyDetail(tp)
		st.audit(e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return tp, nil
}

// UpdateTrustPolicy changes a trust policy. A change of what it trusts (issuer, audience,
// claims, keys) or of what it grants ends the tokens it minted under the old terms.
func (s *Service) UpdateTrustPolicy(ctx context.Context, p *Principal, accountID AccountID, id TrustPolicyID, u TrustPolicyUpdate) (*TrustPolicy, error) {
	if err := authorizeServiceTokens(p, accountID, perm.Write); err != nil {
		return nil, err
	}
	var (
		tp      *TrustPolicy
		revoked []TokenID
	)
	err := s.change(ctx, func(st *txn) error {
		var err error
		if tp, err = st.TrustPolicy(ctx, accountID, id); err != nil {
			return err
		}
		if tp.State != StateActive {
			return Invalidf("id", "Trust policy %d is deleted.", id)
		}
		before := *tp
		if u.Name != nil {
			tp.Name = strings.TrimSpace(*u.Name)
		}
		if u.Issuer != nil {
			tp.Issuer = strings.TrimSpace(*u.Issuer)
		}
		if u.Audience != nil {
			tp.Audience = strings.TrimSpace(*u.Audience)
		}
		if u.Claims != nil {
			tp.Claims = u.Claims
		}
		if u.TTL != nil {
			tp.TTL = *u.TTL
		}
		if u.JWKS != nil {
			tp.JWKS = strings.TrimSpace(*u.JWKS)
		}
		if err := s.validateTrustPolicy(tp); err != nil {
			return err
		}
		if u.Grants != nil {
			acct, err := st.Account(ctx, accountID)
			if err != nil {
				return err
			}
			if tp.Grants, err = s.checkServiceGrants(ctx, st, p, acct, u.Grants); err != nil {
				return prefixField(err, "permissions")
			}
		}
		tp.UpdatedAt = s.now()
		if err := st.UpdateTrustPolicy(ctx, tp); err != nil {
			return err
		}
		if termsChanged(&before, tp) {
			if revoked, err = st.RevokeTrustPolicyTokens(ctx, accountID, tp.ID, tp.UpdatedAt); err != nil {
				return err
			}
			revokeAll(ctx, st, p, tp, revoked)
		}
		e := event(ctx, p, accountID, "trust_policy.update", "trust_policy", tp.ID)
		e.Detail = trustPolicyDetail(tp)
		e.Detail["revoked_tokens"] = fmt.Sprint(len(revoked))
		st.audit(e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return tp, nil
}

// revokeAll records the revocation of the tokens a policy minted, and drops them from every
// node's cache once the change commits.
func revokeAll(ctx context.Context, st *txn, p *Principal, tp *TrustPolicy, ids []TokenID) {
	for _, id := range ids {
		e := event(ctx, p, tp.AccountID, revokedAction(KindService), "service", id)
		e.Detail = map[string]string{"via": "trust policy change", "trust_policy_id": fmt.Sprint(tp.ID)}
		st.audit(e)
		st.invalidate(Invalidation{TokenID: id})
	}
}

// termsChanged reports whether b trusts or grants anything other than a does.
func termsChanged(a, b *TrustPolicy) bool {
	return a.Issuer != b.Issuer || a.Audience != b.Audience || a.JWKS != b.JWKS ||
		!maps.Equal(a.Claims, b.Claims) || !slices.EqualFunc(a.Grants, b.Grants, sameGrant)
}

// DeleteTrustPolicy deletes a trust policy and revokes every token it minted, at once.
func (s *Service) DeleteTrustPolicy(ctx context.Context, p *Principal, accountID AccountID, id TrustPolicyID) error {
	if err := authorizeServiceTokens(p, accountID, perm.Write); err != nil {
		return err
	}
	return s.change(ctx, func(st *txn) error {
		tp, err := st.TrustPolicy(ctx, accountID, id)
		if err != nil {
			return err
		}
		if tp.State != StateActive {
			return nil
		}
		tp.State, tp.UpdatedAt = StateDeleted, s.now()
		if err := st.UpdateTrustPolicy(ctx, tp); err != nil {
			return err
		}
		revoked, err := st.RevokeTrustPolicyTokens(ctx, accountID, tp.ID, tp.UpdatedAt)
		if err != nil {
			return err
		}
		revokeAll(ctx, st, p, tp, revoked)
		e := event(ctx, p, accountID, "trust_policy.delete", "trust_policy", tp.ID)
		e.Detail = map[string]string{"name": tp.Name, "issuer": tp.Issuer, "revoked_tokens": fmt.Sprint(len(revoked))}
		st.audit(e)
		return nil
	})
}

// validateTrustPolicy checks every field but the grants.
func (s *Service) validateTrustPolicy(tp *TrustPolicy) error {
	for _, f := range []struct{ name, v string }{{"name", tp.Name}, {"issuer", tp.Issuer}, {"audience", tp.Audience}, {"jwks", tp.JWKS}} {
		if err := checkText(f.name, f.v); err != nil {
			return err
		}
	}
	for k, v := range tp.Claims {
		if checkText("claims", k) != nil || checkText("claims", v) != nil {
			return Invalidf("claims", "Claim names and conditions must be UTF-8 text without NUL characters.")
		}
	}
	if tp.Name == "" || len(tp.Name) > 255 {
		return Invalidf("name", "The trust policy name must be 1 to 255 characters.")
	}
	if err := checkIssuer(tp.Issuer); err != nil {
		return err
	}
	if tp.Audience == "" || len(tp.Audience) > maxAudienceLen {
		return Invalidf("audience", "\"audience\" must be 1 to %d characters: the aud your CI job asks its ID token for.", maxAudienceLen)
	}
	if err := checkClaimConditions(tp.Claims); err != nil {
		return err
	}
	if tp.TTL < MinFederatedTTL || tp.TTL > MaxFederatedTTL || tp.TTL%time.Second != 0 {
		return Invalidf("ttl_seconds", "\"ttl_seconds\" must be a whole number of seconds from %d to %d.",
			int(MinFederatedTTL.Seconds()), int(MaxFederatedTTL.Seconds()))
	}
	if tp.JWKS != "" {
		if len(tp.JWKS) > maxJWKSBytes {
			return Invalidf("jwks", "\"jwks\" must be at most %d bytes.", maxJWKSBytes)
		}
		if s.opts.IDTokens == nil {
			return Errorf(EUnavailable, "Token exchange is not configured on this server.")
		}
		if err := s.opts.IDTokens.CheckKeySet([]byte(tp.JWKS)); err != nil {
			return Invalidf("jwks", "\"jwks\" must be a JSON Web Key Set of public RSA, EC P-256 or Ed25519 keys: %v.", err)
		}
	}
	return nil
}

// checkIssuer accepts an https URL without query or fragment; plain http only on a loopback
// address (a test issuer, or one on the same machine).
func checkIssuer(iss string) error {
	bad := Invalidf("issuer", "\"issuer\" must be the OIDC issuer's https URL, e.g. https://token.actions.githubusercontent.com.")
	if iss == "" || len(iss) > maxIssuerLen {
		return bad
	}
	u, err := url.Parse(iss)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return bad
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
			return nil
		}
	}
	return bad
}

// checkClaimConditions requires at least one condition that is not a bare wildcard: a policy
// that trusts every token of a public issuer (anyone can run a GitHub Actions job) would hand
// the account to anyone.
func checkClaimConditions(claims map[string]string) error {
	if len(claims) > maxPolicyClaims {
		return Invalidf("claims", "At most %d claim conditions are allowed.", maxPolicyClaims)
	}
	specific := false
	for _, name := range slices.Sorted(maps.Keys(claims)) {
		pattern := claims[name]
		if name == "" || len(name) > maxClaimName {
			return Invalidf("claims", "Claim names must be 1 to %d characters.", maxClaimName)
		}
		switch name {
		case "iss", "aud", "exp", "nbf", "iat", "jti":
			return Invalidf("claims."+name, "Claim %q is checked by tokend itself; use \"issuer\" and \"audience\" instead.", name)
		}
		if pattern == "" || len(pattern) > maxClaimPattern {
			return Invalidf("claims."+name, "The condition on claim %q must be 1 to %d characters.", name, maxClaimPattern)
		}
		if strings.Trim(pattern, "*") != "" {
			specific = true
		}
	}
	if !specific {
		return Invalidf("claims", "Give at least one claim condition that is not only \"*\", for example "+
			"{\"repository\": \"my-org/my-repo\"}: without one, every job of the issuer would be trusted.")
	}
	return nil
}

// matchGlob reports whether s matches pattern, where * stands for any run of characters.
func matchGlob(pattern, s string) bool {
	star, next := -1, 0 // last * seen in pattern, and where in s it resumes
	pi, si := 0, 0
	for si < len(s) {
		switch {
		case pi < len(pattern) && pattern[pi] == '*':
			star, next = pi, si
			pi++
		case pi < len(pattern) && pattern[pi] == s[si]:
			pi++
			si++
		case star >= 0:
			next++
			pi, si = star+1, next
		default:
			return false
		}
	}
	for pi < len(pattern) && pattern[pi] == '*' {
		pi++
	}
	return pi == len(pattern)
}

// trustPolicyDetail is a policy's audit detail.
func trustPolicyDetail(tp *TrustPolicy) map[string]string {
	var conds []string
	for _, k := range slices.Sorted(maps.Keys(tp.Claims)) {
		conds = append(conds, k+"="+tp.Claims[k])
	}
	d := map[string]string{"name": tp.Name, "issuer": tp.Issuer, "audience": tp.Audience,
		"claims": strings.Join(conds, ", "), "permissions": grantSummary(tp.Grants),
		"ttl_seconds": fmt.Sprint(int(tp.TTL.Seconds()))}
	if tp.JWKS != "" {
		d["jwks"] = "pinned"
	}
	return d
}
