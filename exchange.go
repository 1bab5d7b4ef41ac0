package tokend

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// IDTokenVerifier checks the ID tokens (OIDC JWTs) that CI jobs and cloud workloads present
// for a token exchange. It is implemented over a maintained JOSE/OIDC library (package
// idtoken); the Service holds the rules of which tokens to trust.
//
// Errors with code EUnauthenticated say, in a message safe for the caller, what is wrong with
// the token; EUnavailable means the issuer's keys could not be fetched.
type IDTokenVerifier interface {
	// Issuer returns the iss claim of raw, unverified, to choose the trust policies to try. It
	// refuses anything but a compact JWS signed with an allowed asymmetric algorithm.
	Issuer(raw string) (string, error)
	// Verify checks raw's signature against the issuer's keys (c.JWKS when pinned, else those
	// its discovery document names), its iss and aud, and exp, nbf and iat at c.Now with a
	// small leeway.
	Verify(ctx context.Context, raw string, c IDTokenCheck) (*IDToken, error)
	// CheckKeySet reports whether jwks is a usable pinned key set.
	CheckKeySet(jwks []byte) error
}

// IDTokenCheck is what one trust policy expects of an ID token.
type IDTokenCheck struct {
	Issuer   string
	Audience string
	JWKS     string // pinned keys; empty: discover them
	Now      time.Time
}

// IDToken is a verified ID token.
type IDToken struct {
	Issuer    string
	Subject   string
	Audience  []string
	ID        string // jti
	IssuedAt  time.Time
	NotBefore time.Time
	ExpiresAt time.Time
	Claims    map[string]any
}

// ExchangeRequest is an RFC 8693 token exchange: an ID token for a service token of the
// account.
type ExchangeRequest struct {
	SubjectToken string
	AccountID    AccountID
}

// auditedClaims are the claims of GitHub Actions and GitLab CI tokens that say which job
// earned a token; they go to the audit log with it.
var auditedClaims = []string{
	"repository", "repository_owner", "ref", "sha", "workflow", "workflow_ref", "run_id", "run_attempt",
	"environment", "actor", "event_name", "job_workflow_ref",
	"project_path", "namespace_path", "pipeline_id", "job_id", "ref_type", "user_login", "ci_config_ref_uri",
}

// ExchangeToken verifies an ID token against the account's trust policies and, when one
// matches, mints a service token with the policy's grants and lifetime. Each token (issuer and
// jti, or the token itself when it has no jti) is accepted once. Every refusal is an *OAuthError.
func (s *Service) ExchangeToken(ctx context.Context, req ExchangeRequest) (*Token, string, *TrustPolicy, error) {
	v := s.opts.IDTokens
	if v == nil {
		return nil, "", nil, oauthErr(OAuthUnsupportedGrantType, "Token exchange is not enabled on this server.")
	}
	iss, err := v.Issuer(req.SubjectToken)
	if err != nil {
		return nil, "", nil, oauthErr(OAuthInvalidGrant, "subject_token: %s", ErrorMessage(err))
	}
	noTarget := oauthErr(OAuthInvalidTarget, "Account %d does not accept token exchange.", req.AccountID)
	acct, err := s.account(ctx, req.AccountID)
	if isNotFound(err) || (err == nil && acct.State != StateActive) {
		return nil, "", nil, noTarget
	}
	if err != nil {
		return nil, "", nil, err
	}
	policies, _, err := s.store.ListTrustPolicies(ctx, TrustPolicyFilter{AccountID: acct.ID, State: StateActive,
		Issuer: iss, Page: Page{Limit: MaxLimit}})
	if err != nil {
		return nil, "", nil, err
	}
	if len(policies) == 0 {
		_, any, err := s.store.ListTrustPolicies(ctx, TrustPolicyFilter{AccountID: acct.ID, State: StateActive, Page: Page{Limit: 1}})
		if err != nil {
			return nil, "", nil, err
		}
		if any == 0 {
			return nil, "", nil, noTarget
		}
		return nil, "", nil, oauthErr(OAuthInvalidGrant, "No trust policy of account %d trusts tokens of issuer %q.", acct.ID, iss)
	}

	// Try each policy of the issuer; the first whose keys, audience and claims all match wins.
	// The refusal reports the policy that came closest: a claim mismatch after a good
	// signature says more than a signature that failed.
	var (
		refusal  *OAuthError
		verified *IDToken
		mismatch string
	)
	now := s.now()
	for _, tp := range policies {
		tok, err := v.Verify(ctx, req.SubjectToken, IDTokenCheck{Issuer: tp.Issuer, Audience: tp.Audience, JWKS: tp.JWKS, Now: now})
		if err != nil {
			switch ErrorCode(err) {
			case EUnauthenticated:
			case EUnavailable:
				s.log.Warn("token exchange: issuer keys unavailable", "issuer", tp.Issuer, "err", err)
				return nil, "", nil, oauthErr(OAuthTemporarilyUnavail, "The issuer's keys could not be fetched; try again later.")
			default:
				return nil, "", nil, err
			}
			if refusal == nil {
				refusal = oauthErr(OAuthInvalidGrant, "subject_token: %s", ErrorMessage(err))
			}
			continue
		}
		name, ok := matchClaims(tp.Claims, tok.Claims)
		if !ok {
			verified, mismatch = tok, name
			refusal = oauthErr(OAuthInvalidGrant, "The token's claims match no trust policy of account %d (claim %q differs).", acct.ID, name)
			continue
		}
		t, raw, err := s.mintFederated(ctx, acct, tp, tok, useKey(tok, req.SubjectToken))
		return t, raw, tp, err
	}
	if verified != nil {
		// A genuine token of a trusted issuer that no policy admits: a misconfigured workflow,
		// or any other job of a public issuer trying. It goes to the server log, not the
		// account's audit log, which strangers must not be able to write into.
		s.log.Info("token exchange refused: claims match no trust policy", "account_id", acct.ID,
			"issuer", printable(verified.Issuer), "subject", printable(verified.Subject), "claim", mismatch)
	}
	return nil, "", nil, refusal
}

// matchClaims checks a policy's conditions against a token's claims and names the first that
// fails. Strings, numbers and booleans are compared in their JSON text.
func matchClaims(conds map[string]string, claims map[string]any) (string, bool) {
	names := make([]string, 0, len(conds))
	for k := range conds {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, name := range names {
		v, ok := claimString(claims[name])
		if !ok || !matchGlob(conds[name], v) {
			return name, false
		}
	}
	return "", true
}

func claimString(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case bool:
		return strconv.FormatBool(v), true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case fmt.Stringer: // json.Number
		return v.String(), true
	}
	return "", false
}

// mintFederated issues the service token a matching ID token earned, after checking the plan
// again (it may have changed since the policy was written) and that the token was never
// exchanged before.
func (s *Service) mintFederated(ctx context.Context, acct *Account, tp *TrustPolicy, tok *IDToken, key [32]byte) (*Token, string, error) {
	var (
		t   *Token
		raw string
	)
	err := s.change(ctx, func(st *txn) error {
		// The plan as it is now, not as the cache or the policy's author saw it.
		fresh, err := st.Account(ctx, acct.ID)
		if err != nil {
			return err
		}
		if err := checkPlan(fresh.Plan, tp.Grants); err != nil {
			return oauthErr(OAuthInvalidScope, "Trust policy %d grants permission sets the account's plan no longer allows.", tp.ID)
		}
		now := s.now()
		// Remember the token until it can no longer be used (with the verifier's leeway).
		if err := st.UseSubjectToken(ctx, key[:], tok.ExpiresAt.Add(IDTokenLeeway), now); err != nil {
			if ErrorCode(err) == EConflict {
				return oauthErr(OAuthInvalidGrant, "subject_token: this token was already exchanged (each token is accepted once).")
			}
			return err
		}
		name := tp.Name + ": " + printable(tok.Subject)
		if len(name) > 255 {
			name = name[:252] + "…"
		}
		t = &Token{Kind: KindService, AccountID: acct.ID, Name: strings.ToValidUTF8(name, ""), State: StateActive,
			ExpiresAt: now.Add(tp.TTL), TrustPolicyID: tp.ID, CreatedAt: now, UpdatedAt: now}
		if raw, err = s.issue(ctx, st, t); err != nil {
			return err
		}
		if err := st.SetTokenPermissions(ctx, acct.ID, t.ID, tp.Grants); err != nil {
			return err
		}
		e := event(ctx, nil, acct.ID, ActionServiceTokenCreated, "service", t.ID)
		e.Detail = federatedDetail(tok)
		e.Detail["uid"], e.Detail["name"], e.Detail["via"] = t.UID, t.Name, "token_exchange"
		e.Detail["trust_policy_id"], e.Detail["trust_policy"] = strconv.FormatInt(int64(tp.ID), 10), tp.Name
		e.Detail["permissions"] = grantSummary(tp.Grants)
		e.Detail["expires_at"] = t.ExpiresAt.UTC().Format(time.RFC3339)
		st.audit(e)
		t, err = st.Token(ctx, t.AccountID, t.ID)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return t, raw, nil
}

// useKey names an ID token in the record of exchanged tokens: its issuer and jti, or, for an
// issuer that sets no jti (Google's ID tokens), the hash of the token itself, which is just as
// unique to it.
func useKey(tok *IDToken, raw string) [32]byte {
	if tok.ID != "" {
		return sha256.Sum256([]byte("jti\x00" + tok.Issuer + "\x00" + tok.ID))
	}
	h := sha256.Sum256([]byte(raw))
	return sha256.Sum256(append([]byte("token\x00"+tok.Issuer+"\x00"), h[:]...))
}

// IDTokenLeeway is the clock skew allowed on an ID token's exp, nbf and iat.
const IDTokenLeeway = 30 * time.Second

// federatedDetail is what an audit event records of an ID token: who issued it for whom, and
// the CI claims that name the job.
func federatedDetail(tok *IDToken) map[string]string {
	d := map[string]string{"issuer": printable(tok.Issuer), "subject": printable(tok.Subject), "jti": printable(tok.ID)}
	for _, name := range auditedClaims {
		if v, ok := claimString(tok.Claims[name]); ok && v != "" {
			d["claim."+name] = printable(v)
		}
	}
	return d
}

// printable keeps what an ID token says fit for the record: valid UTF-8, no control
// characters (no store keeps a NUL), at most 512 bytes.
func printable(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	return truncate(s, 512)
}
