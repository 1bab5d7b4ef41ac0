package httpapi_test

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"tokend"
	"tokend/httpapi"
	"tokend/idtoken"
	"tokend/perm"
)

// clock is a test clock the service reads.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *clock) advance(d time.Duration) { c.set(c.now().Add(d)) }

// oauthAnswer is an OAuth token endpoint answer, success or error.
type oauthAnswer struct {
	Code             int
	Header           http.Header
	AccessToken      string `json:"access_token"`
	IssuedTokenType  string `json:"issued_token_type"`
	TokenType        string `json:"token_type"`
	ExpiresIn        int64  `json:"expires_in"`
	AccountID        int64  `json:"account_id"`
	UserID           int64  `json:"user_id"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	Interval         int    `json:"interval"`
	Raw              string
}

// postForm sends a form-encoded POST and decodes the OAuth answer.
func (e *env) postForm(path string, form url.Values) *oauthAnswer {
	e.t.Helper()
	resp, err := http.Post(e.srv.URL+path, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	a := &oauthAnswer{Code: resp.StatusCode, Header: resp.Header, Raw: string(b)}
	if err := json.Unmarshal(b, a); err != nil {
		e.t.Fatalf("POST %s: answer is not JSON: %v\n%s", path, err, b)
	}
	return a
}

func exchangeForm(subject string, accountID tokend.AccountID) url.Values {
	return url.Values{
		"grant_type":         {tokend.GrantTypeTokenExchange},
		"subject_token":      {subject},
		"subject_token_type": {tokend.TokenTypeJWT},
		"account_id":         {fmt.Sprint(accountID)},
	}
}

const tokenPath = "/api/tokend/v1/oauth/token"

func policyPath(accountID tokend.AccountID, rest string) string {
	return fmt.Sprintf("/api/tokend/v1/accounts/%d/trust-policies/%s", accountID, rest)
}

// trustPolicyBody is the part of a trust policy the tests read.
type trustPolicyBody struct {
	ID          int64             `json:"id"`
	AccountID   int64             `json:"account_id"`
	Name        string            `json:"name"`
	Issuer      string            `json:"issuer"`
	Audience    string            `json:"audience"`
	Claims      map[string]string `json:"claims"`
	TTLSeconds  int               `json:"ttl_seconds"`
	State       int               `json:"state"`
	Permissions []struct {
		PermissionSet string `json:"permission_set"`
		AllProjects   bool   `json:"all_projects"`
		ProjectID     *int64 `json:"project_id"`
	} `json:"permissions"`
	JWKS json.RawMessage `json:"jwks"`
}

func createPolicy(t testing.TB, e *env, tok string, accountID tokend.AccountID, body string) trustPolicyBody {
	t.Helper()
	r := e.do("POST", policyPath(accountID, ""), bearer(tok), body)
	if r.Code != http.StatusCreated {
		t.Fatalf("create trust policy: got %d, want 201: %s", r.Code, r.Raw)
	}
	var p trustPolicyBody
	r.data(t, &p)
	return p
}

// exchangeFixture is two issuers (GitHub-shaped, GitLab-shaped) and three accounts: A trusts
// both, B trusts other repositories of the GitHub issuer, C trusts nothing.
type exchangeFixture struct {
	e                  *env
	clock              *clock
	gh, gl             *testIssuer
	ghKey, glKey       signingKey
	a, b, c            *tokend.InitResult
	ghPolicy, glPolicy trustPolicyBody
}

func TestTokenExchange(t *testing.T) {
	t.Parallel()
	ghKey, glKey := newRSAKey(t, "gh-1"), newECKey(t, "gl-1")
	gh, gl := newIssuer(t, ghKey), newIssuer(t, glKey)
	stranger := newRSAKey(t, "gh-1") // same kid, another key: a forgery
	clk := &clock{}
	// Each store's tokend gets a verifier of its own, so that one run's key cache does not serve
	// the other's.
	eachStoreWith(t, func(o *tokend.Options) { o.Now, o.IDTokens = clk.now, idtoken.New(idtoken.Options{Now: clk.now}) }, func(t *testing.T, e *env) {
		clk.set(time.Now().UTC().Truncate(time.Second))
		f := &exchangeFixture{e: e, clock: clk, gh: gh, gl: gl, ghKey: ghKey, glKey: glKey}
		f.a = e.initAccount("A", "owner-a@example.com")
		f.b = e.initAccount("B", "owner-b@example.com")
		f.c = e.initAccount("C", "owner-c@example.com")
		f.ghPolicy = createPolicy(t, e, f.a.Token, f.a.Account.ID, fmt.Sprintf(`{"name": "deploy from main",
			"issuer": %q, "audience": "tokend", "claims": {"repository": "acme/widgets", "ref": "refs/heads/*"},
			"permissions": [{"permission_set": "job_admin", "all_projects": true}]}`, gh.url()))
		f.glPolicy = createPolicy(t, e, f.a.Token, f.a.Account.ID, fmt.Sprintf(`{"name": "gitlab pipelines",
			"issuer": %q, "audience": "https://tokend.example.com", "claims": {"project_path": "acme/*", "ref_type": "branch"},
			"permissions": [{"permission_set": "metadata_only", "all_projects": true}], "ttl_seconds": 300}`, gl.url()))
		createPolicy(t, e, f.b.Token, f.b.Account.ID, fmt.Sprintf(`{"name": "other org", "issuer": %q,
			"audience": "tokend", "claims": {"repository": "other-org/*"},
			"permissions": [{"permission_set": "account_admin", "all_projects": true}]}`, gh.url()))

		t.Run("GitHubTokenWorksThenExpires", func(t *testing.T) { testExchangeWorks(t, f) })
		t.Run("GitLabToken", func(t *testing.T) {
			r := e.postForm(tokenPath, exchangeForm(sign(t, glKey, gitlabClaims(gl.url(), "https://tokend.example.com", clk.now())), f.a.Account.ID))
			if r.Code != http.StatusOK || r.ExpiresIn != 300 {
				t.Fatalf("got %d expires_in %d, want 200 and 300: %s", r.Code, r.ExpiresIn, r.Raw)
			}
			w := e.do("GET", "/api/v3/whoami/", bearer(r.AccessToken), "")
			if w.Code != http.StatusOK {
				t.Errorf("whoami with the minted token: got %d, want 200", w.Code)
			}
		})
		t.Run("Refusals", func(t *testing.T) { testExchangeRefusals(t, f, stranger) })
		t.Run("KeyRotation", func(t *testing.T) {
			k2 := newRSAKey(t, "gh-2-"+rand.Text()[:8]) // a kid this issuer never published
			clk.advance(11 * time.Second)               // past the refusals' own fetch for an unknown kid
			before := gh.jwksHits.Load()
			tok := sign(t, k2, githubClaims(gh.url(), "tokend", clk.now()))
			if r := e.postForm(tokenPath, exchangeForm(tok, f.a.Account.ID)); r.Error != "invalid_grant" {
				t.Fatalf("token of an unpublished key: got %d %q, want invalid_grant", r.Code, r.Error)
			}
			if gh.jwksHits.Load() == before {
				t.Errorf("an unknown kid did not make tokend fetch the JWKS again")
			}
			// More tokens naming unknown keys within ten seconds fetch nothing more.
			fetched := gh.jwksHits.Load()
			for i := range 5 {
				tok := sign(t, newRSAKey(t, fmt.Sprintf("forged-%d", i)), githubClaims(gh.url(), "tokend", clk.now()))
				if r := e.postForm(tokenPath, exchangeForm(tok, f.a.Account.ID)); r.Error != "invalid_grant" {
					t.Errorf("token of a forged key: got %d %q, want invalid_grant", r.Code, r.Error)
				}
			}
			if got := gh.jwksHits.Load(); got != fetched {
				t.Errorf("five unknown kids within ten seconds fetched the JWKS %d more times, want 0", got-fetched)
			}
			gh.publish(k2)
			clk.advance(11 * time.Second)
			tok = sign(t, k2, githubClaims(gh.url(), "tokend", clk.now()))
			if r := e.postForm(tokenPath, exchangeForm(tok, f.a.Account.ID)); r.Code != http.StatusOK {
				t.Errorf("token of a newly published key: got %d, want 200: %s", r.Code, r.Raw)
			}
			// An issuer that replaces a key under the same id is followed once the cached keys
			// are an hour old; until then the known key decides, and nothing is fetched.
			reused := newRSAKey(t, k2.kid)
			gh.publish(reused)
			fetched = gh.jwksHits.Load()
			if r := e.postForm(tokenPath, exchangeForm(sign(t, reused, githubClaims(gh.url(), "tokend", clk.now())), f.a.Account.ID)); r.Error != "invalid_grant" {
				t.Errorf("a new key under a cached id: got %d %q, want invalid_grant", r.Code, r.Error)
			}
			if got := gh.jwksHits.Load(); got != fetched {
				t.Errorf("a known key id that fails fetched the JWKS %d times, want 0", got-fetched)
			}
			clk.advance(61 * time.Minute)
			if r := e.postForm(tokenPath, exchangeForm(sign(t, reused, githubClaims(gh.url(), "tokend", clk.now())), f.a.Account.ID)); r.Code != http.StatusOK {
				t.Errorf("a new key under a known id, an hour later: got %d, want 200: %s", r.Code, r.Raw)
			}
		})
		t.Run("PinnedJWKS", func(t *testing.T) {
			pinnedKey := newRSAKey(t, "offline-1")
			offline := newIssuer(t, pinnedKey)
			jwks := offline.jwks(t)
			offline.srv.Close() // unreachable from now on: only the pinned keys can work
			createPolicy(t, e, f.c.Token, f.c.Account.ID, fmt.Sprintf(`{"name": "air-gapped", "issuer": %q,
				"audience": "tokend", "claims": {"repository": "acme/widgets"}, "jwks": %s,
				"permissions": [{"permission_set": "readonly", "all_projects": true}]}`, offline.url(), jwks))
			r := e.postForm(tokenPath, exchangeForm(sign(t, pinnedKey, githubClaims(offline.url(), "tokend", clk.now())), f.c.Account.ID))
			if r.Code != http.StatusOK {
				t.Fatalf("pinned keys: got %d, want 200: %s", r.Code, r.Raw)
			}
			r = e.postForm(tokenPath, exchangeForm(sign(t, newRSAKey(t, "offline-1"), githubClaims(offline.url(), "tokend", clk.now())), f.c.Account.ID))
			if r.Error != "invalid_grant" {
				t.Errorf("a key that is not pinned: got %d %q, want invalid_grant", r.Code, r.Error)
			}
		})
		t.Run("GrantsAndPlan", func(t *testing.T) { testExchangeGrants(t, f) })
		t.Run("DeletingPolicyRevokes", func(t *testing.T) {
			p := createPolicy(t, e, f.b.Token, f.b.Account.ID, fmt.Sprintf(`{"name": "short-lived", "issuer": %q,
				"audience": "tokend", "claims": {"repository": "acme/widgets"},
				"permissions": [{"permission_set": "readonly", "all_projects": true}]}`, gh.url()))
			r := e.postForm(tokenPath, exchangeForm(sign(t, ghKey, githubClaims(gh.url(), "tokend", clk.now())), f.b.Account.ID))
			if r.Code != http.StatusOK {
				t.Fatalf("exchange: got %d: %s", r.Code, r.Raw)
			}
			acct := fmt.Sprintf("/api/v3/accounts/%d/", f.b.Account.ID)
			if w := e.do("GET", acct, bearer(r.AccessToken), ""); w.Code != http.StatusOK {
				t.Fatalf("minted token: got %d, want 200", w.Code)
			}
			if code, body := e.doNoBody("DELETE", policyPath(f.b.Account.ID, fmt.Sprint(p.ID)), bearer(f.b.Token)); code != http.StatusNoContent {
				t.Fatalf("delete policy: got %d: %s", code, body)
			}
			if w := e.do("GET", acct, bearer(r.AccessToken), ""); w.Code != http.StatusUnauthorized {
				t.Errorf("minted token after its policy was deleted: got %d, want 401", w.Code)
			}
		})
	})
}

func testExchangeWorks(t *testing.T, f *exchangeFixture) {
	e, acct := f.e, f.a.Account.ID
	claims := githubClaims(f.gh.url(), "tokend", f.clock.now())
	r := e.postForm(tokenPath, exchangeForm(sign(t, f.ghKey, claims), acct))
	if r.Code != http.StatusOK {
		t.Fatalf("exchange: got %d, want 200: %s", r.Code, r.Raw)
	}
	if !strings.HasPrefix(r.AccessToken, "dbtc_") || r.IssuedTokenType != tokend.TokenTypeAccessToken ||
		r.TokenType != "Bearer" || r.ExpiresIn != 900 || r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("answer: got %s (Cache-Control %q), want a dbtc_ token, issued_token_type access_token, Bearer, expires_in 900, no-store",
			r.Raw, r.Header.Get("Cache-Control"))
	}
	// It works where a job_admin service token works, and nowhere else.
	for _, c := range []struct {
		method, path, body string
		want               int
	}{
		{"GET", "/api/v3/whoami/", "", http.StatusOK},
		{"GET", fmt.Sprintf("/api/v3/accounts/%d/", acct), "", http.StatusOK},
		{"GET", fmt.Sprintf("/api/v3/accounts/%d/projects/", acct), "", http.StatusOK},
		{"GET", stPath(acct, ""), "", http.StatusForbidden},
		{"GET", fmt.Sprintf("/api/v3/accounts/%d/", f.b.Account.ID), "", http.StatusForbidden},
	} {
		if w := e.do(c.method, c.path, bearer(r.AccessToken), c.body); w.Code != c.want {
			t.Errorf("%s %s with the minted token: got %d, want %d", c.method, c.path, w.Code, c.want)
		}
	}
	// The inventory marks it federated, with its policy and expiry; the audit log says which job
	// earned it.
	inv := e.do("GET", fmt.Sprintf("/api/tokend/v1/accounts/%d/tokens/?kind=service&federated=true", acct), bearer(f.a.Token), "")
	var toks []struct {
		UID           string  `json:"uid"`
		Federated     bool    `json:"federated"`
		TrustPolicyID *int64  `json:"trust_policy_id"`
		ExpiresAt     *string `json:"expires_at"`
		Grants        []struct {
			PermissionSet string `json:"permission_set"`
		} `json:"permission_grants"`
	}
	inv.data(t, &toks)
	if len(toks) != 1 || !toks[0].Federated || toks[0].TrustPolicyID == nil || *toks[0].TrustPolicyID != f.ghPolicy.ID ||
		toks[0].ExpiresAt == nil || len(toks[0].Grants) != 1 || toks[0].Grants[0].PermissionSet != "job_admin" {
		t.Errorf("inventory of federated tokens: got %s, want one federated job_admin token of policy %d with an expiry", inv.Body.Data, f.ghPolicy.ID)
	}
	events, _, err := e.store.ListAudit(context.Background(), tokend.AuditFilter{AccountID: acct, Action: tokend.ActionServiceTokenCreated, Page: tokend.Page{Limit: 100}})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, ev := range events {
		if ev.Detail["via"] != "token_exchange" {
			continue
		}
		found = true
		for k, want := range map[string]string{"trust_policy_id": fmt.Sprint(f.ghPolicy.ID), "trust_policy": "deploy from main",
			"claim.repository": "acme/widgets", "claim.ref": "refs/heads/main", "claim.run_id": claims["run_id"].(string),
			"subject": "repo:acme/widgets:ref:refs/heads/main", "issuer": f.gh.url()} {
			if got := ev.Detail[k]; got != want {
				t.Errorf("audit detail %s: got %q, want %q", k, got, want)
			}
		}
	}
	if !found {
		t.Errorf("no token.create audit event via token_exchange")
	}
	// 15 minutes later it no longer works.
	f.clock.advance(15*time.Minute + time.Second)
	if w := e.do("GET", "/api/v3/whoami/", bearer(r.AccessToken), ""); w.Code != http.StatusUnauthorized {
		t.Errorf("minted token after its lifetime: got %d, want 401", w.Code)
	}
}

// algNone is a token that claims no signature at all.
func algNone(claims map[string]any) string {
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	b, _ := json.Marshal(claims)
	return h + "." + base64.RawURLEncoding.EncodeToString(b) + "."
}

// hs256WithPublicKey signs with HMAC keyed by the issuer's public key: the classic confusion
// of a verifier that trusts the token's alg.
func hs256WithPublicKey(t *testing.T, k signingKey, claims map[string]any) string {
	der, err := x509.MarshalPKIXPublicKey(k.priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	pub := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: jose.JSONWebKey{Key: pub, KeyID: k.kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func testExchangeRefusals(t *testing.T, f *exchangeFixture, stranger signingKey) {
	e, a := f.e, f.a.Account.ID
	now := f.clock.now()
	gh := func(mod func(map[string]any)) map[string]any {
		c := githubClaims(f.gh.url(), "tokend", now)
		if mod != nil {
			mod(c)
		}
		return c
	}
	other := newIssuer(t, newRSAKey(t, "x-1"))
	replayed := sign(t, f.ghKey, gh(nil))
	if r := e.postForm(tokenPath, exchangeForm(replayed, a)); r.Code != http.StatusOK {
		t.Fatalf("first use of the token to replay: got %d: %s", r.Code, r.Raw)
	}
	tests := []struct {
		name     string
		form     url.Values
		wantCode string
		wantDesc string
	}{
		{"wrong audience", exchangeForm(sign(t, f.ghKey, gh(func(c map[string]any) { c["aud"] = "someone-else" })), a),
			"invalid_grant", "audience"},
		{"wrong issuer", exchangeForm(sign(t, newRSAKey(t, "x-1"), githubClaims(other.url(), "tokend", now)), a),
			"invalid_grant", "issuer"},
		{"issuer claimed, signed by another key", exchangeForm(sign(t, stranger, gh(nil)), a), "invalid_grant", "signature"},
		{"unknown kid", exchangeForm(sign(t, newRSAKey(t, "gh-unknown"), gh(nil)), a), "invalid_grant", "signature"},
		{"expired", exchangeForm(sign(t, f.ghKey, gh(func(c map[string]any) {
			c["iat"], c["nbf"], c["exp"] = now.Add(-10*time.Minute).Unix(), now.Add(-10*time.Minute).Unix(), now.Add(-time.Minute).Unix()
		})), a), "invalid_grant", "expired"},
		{"not yet valid", exchangeForm(sign(t, f.ghKey, gh(func(c map[string]any) { c["nbf"] = now.Add(5 * time.Minute).Unix() })), a),
			"invalid_grant", "not valid yet"},
		{"issued in the future", exchangeForm(sign(t, f.ghKey, gh(func(c map[string]any) { c["iat"] = now.Add(5 * time.Minute).Unix() })), a),
			"invalid_grant", "future"},
		{"no exp", exchangeForm(sign(t, f.ghKey, gh(func(c map[string]any) { delete(c, "exp") })), a), "invalid_grant", "exp"},
		{"replayed jti", exchangeForm(replayed, a), "invalid_grant", "already exchanged"},
		{"alg none", exchangeForm(algNone(gh(nil)), a), "invalid_grant", "RS256, ES256 or EdDSA"},
		{"HS256 signed with the public key", exchangeForm(hs256WithPublicKey(t, f.ghKey, gh(nil)), a), "invalid_grant", "RS256, ES256 or EdDSA"},
		{"not a JWT", exchangeForm("dbtc_notajwt", a), "invalid_grant", "JWT"},
		{"claim misses the policy", exchangeForm(sign(t, f.ghKey, gh(func(c map[string]any) { c["repository"] = "acme/gadgets" })), a),
			"invalid_grant", `"repository"`},
		{"glob misses", exchangeForm(sign(t, f.ghKey, gh(func(c map[string]any) { c["ref"] = "refs/tags/v1" })), a),
			"invalid_grant", `"ref"`},
		{"claim absent", exchangeForm(sign(t, f.ghKey, gh(func(c map[string]any) { delete(c, "repository") })), a),
			"invalid_grant", `"repository"`},
		{"policy of another account", exchangeForm(sign(t, f.ghKey, gh(func(c map[string]any) { c["repository"] = "other-org/app" })), a),
			"invalid_grant", "match no trust policy"},
		{"account without trust policies", exchangeForm(sign(t, f.ghKey, gh(nil)), f.c.Account.ID), "invalid_target", "does not accept"},
		{"account that does not exist", exchangeForm(sign(t, f.ghKey, gh(nil)), 999999), "invalid_target", "does not accept"},
		{"account id not a number", func() url.Values {
			v := exchangeForm(sign(t, f.ghKey, gh(nil)), a)
			v.Set("account_id", "acme")
			return v
		}(),
			"invalid_target", "numeric id"},
		{"account and audience disagree", func() url.Values {
			v := exchangeForm(sign(t, f.ghKey, gh(nil)), a)
			v.Set("audience", fmt.Sprint(f.b.Account.ID))
			return v
		}(), "invalid_request", "different accounts"},
		{"no account", func() url.Values { v := exchangeForm(sign(t, f.ghKey, gh(nil)), a); v.Del("account_id"); return v }(),
			"invalid_request", "account_id"},
		{"no subject token", url.Values{"grant_type": {tokend.GrantTypeTokenExchange}, "subject_token_type": {tokend.TokenTypeJWT},
			"account_id": {fmt.Sprint(a)}}, "invalid_request", "subject_token"},
		{"wrong subject token type", func() url.Values {
			v := exchangeForm(sign(t, f.ghKey, gh(nil)), a)
			v.Set("subject_token_type", "urn:ietf:params:oauth:token-type:saml2")
			return v
		}(), "invalid_request", "subject_token_type"},
		{"unsupported grant type", url.Values{"grant_type": {"password"}}, "unsupported_grant_type", "token-exchange"},
		{"no grant type", url.Values{}, "invalid_request", "grant_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.postForm(tokenPath, tt.form)
			if r.Code != http.StatusBadRequest || r.Error != tt.wantCode || !strings.Contains(r.ErrorDescription, tt.wantDesc) {
				t.Errorf("got %d %q %q, want 400 %q with a description containing %q", r.Code, r.Error, r.ErrorDescription, tt.wantCode, tt.wantDesc)
			}
			if r.AccessToken != "" {
				t.Errorf("got an access_token with a refusal")
			}
		})
	}
	// A token without jti (Google's ID tokens have none) is accepted once all the same.
	noJTI := sign(t, f.ghKey, gh(func(c map[string]any) { delete(c, "jti") }))
	if r := e.postForm(tokenPath, exchangeForm(noJTI, a)); r.Code != http.StatusOK {
		t.Errorf("token without jti: got %d, want 200: %s", r.Code, r.Raw)
	}
	if r := e.postForm(tokenPath, exchangeForm(noJTI, a)); r.Error != "invalid_grant" || !strings.Contains(r.ErrorDescription, "already exchanged") {
		t.Errorf("the same token without jti again: got %d %q %q, want invalid_grant, already exchanged", r.Code, r.Error, r.ErrorDescription)
	}
	// The audience parameter names the account as well as account_id does.
	v := exchangeForm(sign(t, f.ghKey, gh(nil)), a)
	v.Del("account_id")
	v.Set("audience", fmt.Sprint(a))
	if r := e.postForm(tokenPath, v); r.Code != http.StatusOK {
		t.Errorf("account named by audience: got %d, want 200: %s", r.Code, r.Raw)
	}
	// JSON is not how OAuth clients talk.
	resp, err := http.Post(e.srv.URL+tokenPath, "application/json", strings.NewReader(`{"grant_type": "x"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("JSON body: got %d, want 400", resp.StatusCode)
	}
}

func testExchangeGrants(t *testing.T, f *exchangeFixture) {
	e := f.e
	// A policy can grant only what the plan allows service tokens.
	dev, err := e.svc.Init(context.Background(), tokend.InitParams{AccountName: "Dev plan", Plan: perm.PlanDeveloper,
		Email: "dev-plan@example.com", Password: "a long enough password"})
	if err != nil {
		t.Fatal(err)
	}
	body := func(set string) string {
		return fmt.Sprintf(`{"name": "p", "issuer": %q, "audience": "tokend", "claims": {"repository": "acme/widgets"},
			"permissions": [{"permission_set": %q, "all_projects": true}]}`, f.gh.url(), set)
	}
	r := e.do("POST", policyPath(dev.Account.ID, ""), bearer(dev.Token), body("job_admin"))
	if r.Code != http.StatusBadRequest || !strings.Contains(r.Body.Status.UserMessage, "job_admin") ||
		!strings.Contains(r.Body.Status.UserMessage, "developer") {
		t.Errorf("job_admin on the developer plan: got %d %q, want 400 naming the set and the plan", r.Code, r.Body.Status.UserMessage)
	}
	p := createPolicy(t, e, dev.Token, dev.Account.ID, body("semantic_layer_only"))
	if len(p.Permissions) != 1 || p.Permissions[0].PermissionSet != "semantic_layer_only" {
		t.Errorf("policy permissions: got %+v, want semantic_layer_only for all projects", p.Permissions)
	}
	tok := e.postForm(tokenPath, exchangeForm(sign(t, f.ghKey, githubClaims(f.gh.url(), "tokend", f.clock.now())), dev.Account.ID))
	if tok.Code != http.StatusOK {
		t.Fatalf("exchange on the developer plan: got %d: %s", tok.Code, tok.Raw)
	}
	if w := e.do("GET", fmt.Sprintf("/api/v3/accounts/%d/projects/", dev.Account.ID), bearer(tok.AccessToken), ""); w.Code != http.StatusForbidden {
		t.Errorf("semantic_layer_only token on projects: got %d, want 403", w.Code)
	}

	// A plan that shrinks after the policy was written: the exchange refuses rather than mint
	// beyond the plan.
	ent, err := e.svc.Init(context.Background(), tokend.InitParams{AccountName: "Shrinking", Plan: perm.PlanEnterprise,
		Email: "shrink@example.com", Password: "a long enough password"})
	if err != nil {
		t.Fatal(err)
	}
	createPolicy(t, e, ent.Token, ent.Account.ID, body("job_admin"))
	acct, err := e.store.Account(context.Background(), ent.Account.ID)
	if err != nil {
		t.Fatal(err)
	}
	acct.Plan = perm.PlanDeveloper
	if err := e.store.UpdateAccount(context.Background(), acct); err != nil {
		t.Fatal(err)
	}
	r2 := e.postForm(tokenPath, exchangeForm(sign(t, f.ghKey, githubClaims(f.gh.url(), "tokend", f.clock.now())), ent.Account.ID))
	if r2.Code != http.StatusBadRequest || r2.Error != "invalid_scope" {
		t.Errorf("exchange beyond the plan: got %d %q, want 400 invalid_scope: %s", r2.Code, r2.Error, r2.Raw)
	}

	// Policies are the account admins': others may not write them, and a policy must name at
	// least one claim that is not a wildcard.
	ro := mintService(t, e, f.a.Account.ID, perm.JobAdmin)
	if r := e.do("POST", policyPath(f.a.Account.ID, ""), bearer(ro), body("job_admin")); r.Code != http.StatusForbidden {
		t.Errorf("job_admin service token creates a policy: got %d, want 403", r.Code)
	}
	if r := e.do("GET", policyPath(f.b.Account.ID, ""), bearer(f.a.Token), ""); r.Code != http.StatusForbidden {
		t.Errorf("account A's owner lists B's policies: got %d, want 403", r.Code)
	}
	if r := e.do("GET", policyPath(f.a.Account.ID, fmt.Sprint(f.ghPolicy.ID)), bearer(f.b.Token), ""); r.Code != http.StatusForbidden {
		t.Errorf("B's owner reads A's policy: got %d, want 403", r.Code)
	}
	for name, c := range map[string]struct{ body, field string }{
		"only wildcards": {fmt.Sprintf(`{"name": "p", "issuer": %q, "audience": "tokend", "claims": {"repository": "*"},
			"permissions": [{"permission_set": "readonly"}]}`, f.gh.url()), "claims"},
		"no claims": {fmt.Sprintf(`{"name": "p", "issuer": %q, "audience": "tokend",
			"permissions": [{"permission_set": "readonly"}]}`, f.gh.url()), "claims"},
		"http issuer": {`{"name": "p", "issuer": "http://ci.example.com", "audience": "tokend", "claims": {"repository": "a/b"},
			"permissions": [{"permission_set": "readonly"}]}`, "issuer"},
		"ttl above an hour": {fmt.Sprintf(`{"name": "p", "issuer": %q, "audience": "tokend", "claims": {"repository": "a/b"},
			"ttl_seconds": 3601, "permissions": [{"permission_set": "readonly"}]}`, f.gh.url()), "ttl_seconds"},
		"private key pinned": {fmt.Sprintf(`{"name": "p", "issuer": %q, "audience": "tokend", "claims": {"repository": "a/b"},
			"jwks": {"keys": [%s]}, "permissions": [{"permission_set": "readonly"}]}`, f.gh.url(), privateJWK(t, f.ghKey)), "jwks"},
		"no audience": {fmt.Sprintf(`{"name": "p", "issuer": %q, "claims": {"repository": "a/b"},
			"permissions": [{"permission_set": "readonly"}]}`, f.gh.url()), "audience"},
	} {
		r := e.do("POST", policyPath(f.a.Account.ID, ""), bearer(f.a.Token), c.body)
		if r.Code != http.StatusBadRequest || !strings.Contains(r.Body.Status.DeveloperMessage, c.field) {
			t.Errorf("%s: got %d %q (%s), want 400 naming %s", name, r.Code, r.Body.Status.UserMessage, r.Body.Status.DeveloperMessage, c.field)
		}
	}

	// Changing what a policy grants ends the tokens minted under the old grants.
	tok2 := e.postForm(tokenPath, exchangeForm(sign(t, f.ghKey, githubClaims(f.gh.url(), "tokend", f.clock.now())), f.a.Account.ID))
	if tok2.Code != http.StatusOK {
		t.Fatalf("exchange: got %d: %s", tok2.Code, tok2.Raw)
	}
	r = e.do("PUT", policyPath(f.a.Account.ID, fmt.Sprint(f.ghPolicy.ID)), bearer(f.a.Token), `{"permissions": [{"permission_set": "readonly"}]}`)
	if r.Code != http.StatusOK {
		t.Fatalf("update policy: got %d: %s", r.Code, r.Raw)
	}
	if w := e.do("GET", "/api/v3/whoami/", bearer(tok2.AccessToken), ""); w.Code != http.StatusUnauthorized {
		t.Errorf("token minted under the old grants: got %d, want 401", w.Code)
	}
}

func privateJWK(t *testing.T, k signingKey) string {
	b, err := json.Marshal(jose.JSONWebKey{Key: k.priv, KeyID: k.kid, Algorithm: string(k.alg)})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestOAuthRefusalsAreRateLimited(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	frozen := time.Now()
	srv := httptest.NewServer(httpapi.New(e.svc, httpapi.Options{OAuthFailures: 3, Now: func() time.Time { return frozen }}).Handler())
	t.Cleanup(srv.Close)
	e.srv = srv
	bad := url.Values{"grant_type": {tokend.GrantTypeTokenExchange}, "subject_token": {"not-a-jwt"},
		"subject_token_type": {tokend.TokenTypeJWT}, "account_id": {"1"}}
	for i := range 3 {
		if r := e.postForm(tokenPath, bad); r.Code != http.StatusBadRequest {
			t.Fatalf("refusal %d: got %d, want 400", i+1, r.Code)
		}
	}
	r := e.postForm(tokenPath, bad)
	if r.Code != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" || r.Error != "slow_down" {
		t.Errorf("fourth refusal: got %d %q (Retry-After %q), want 429 slow_down with Retry-After", r.Code, r.Error, r.Header.Get("Retry-After"))
	}
	if r := e.postForm("/api/tokend/v1/oauth/device/code", url.Values{"client_id": {"tokend-cli"}}); r.Code != http.StatusTooManyRequests {
		t.Errorf("device code from a blocked address: got %d, want 429", r.Code)
	}
}

func TestOAuthRequestsAreRateLimited(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	frozen := time.Now()
	srv := httptest.NewServer(httpapi.New(e.svc, httpapi.Options{Now: func() time.Time { return frozen }, OAuthFailures: 10_000}).Handler())
	t.Cleanup(srv.Close)
	e.srv = srv
	// Polling as a CLI does, accepted answers and all: 120 requests at once (the device code
	// was one), then 429 until the clock moves.
	d := e.startDevice(t, "laptop")
	for i := range 125 {
		r := e.postForm(tokenPath, pollForm(d.DeviceCode))
		want := http.StatusBadRequest
		if i >= 119 {
			want = http.StatusTooManyRequests
		}
		if r.Code != want {
			t.Fatalf("request %d: got %d %q, want %d", i+2, r.Code, r.Error, want)
		}
	}
}
