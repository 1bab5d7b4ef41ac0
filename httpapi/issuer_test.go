package httpapi_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// testIssuer is an OIDC issuer on 127.0.0.1: a discovery document and a JWKS, with keys made
// for the test. It signs tokens shaped like those of GitHub Actions and GitLab CI.
type testIssuer struct {
	srv       *httptest.Server
	mu        sync.Mutex
	published []jose.JSONWebKey
	jwksHits  atomic.Int32
}

// signingKey is a private key with its kid and algorithm.
type signingKey struct {
	kid  string
	alg  jose.SignatureAlgorithm
	priv crypto.Signer
}

func newRSAKey(tb testing.TB, kid string) signingKey {
	tb.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	return signingKey{kid, jose.RS256, k}
}

func newECKey(tb testing.TB, kid string) signingKey {
	tb.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return signingKey{kid, jose.ES256, k}
}

// newIssuer starts an issuer that publishes keys.
func newIssuer(tb testing.TB, keys ...signingKey) *testIssuer {
	tb.Helper()
	iss := &testIssuer{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{
			"issuer": iss.srv.URL, "jwks_uri": iss.srv.URL + "/jwks",
			"id_token_signing_alg_values_supported": []string{"RS256", "ES256", "EdDSA"},
			"response_types_supported":              []string{"id_token"},
			"subject_types_supported":               []string{"public"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		iss.jwksHits.Add(1)
		iss.mu.Lock()
		defer iss.mu.Unlock()
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: iss.published})
	})
	iss.srv = httptest.NewServer(mux)
	tb.Cleanup(iss.srv.Close)
	for _, k := range keys {
		iss.publish(k)
	}
	return iss
}

func (i *testIssuer) url() string { return i.srv.URL }

// publish adds k's public half to the JWKS (a key rotation).
func (i *testIssuer) publish(k signingKey) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.published = append(i.published, jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.kid, Algorithm: string(k.alg), Use: "sig"})
}

// jwks is the issuer's key set as a trust policy would pin it.
func (i *testIssuer) jwks(tb testing.TB) string {
	tb.Helper()
	i.mu.Lock()
	defer i.mu.Unlock()
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: i.published})
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// sign signs claims with k.
func sign(tb testing.TB, k signingKey, claims map[string]any) string {
	tb.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: jose.JSONWebKey{Key: k.priv, KeyID: k.kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		tb.Fatal(err)
	}
	raw, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		tb.Fatal(err)
	}
	return raw
}

var jtiSeq atomic.Int64

// githubClaims are the claims of a GitHub Actions job token for acme/widgets on main.
func githubClaims(iss, aud string, now time.Time) map[string]any {
	run := jtiSeq.Add(1)
	return map[string]any{
		"iss": iss, "aud": aud, "sub": "repo:acme/widgets:ref:refs/heads/main",
		"jti": "gh-" + time.Now().Format("150405.000000") + "-" + itoa(run),
		"iat": now.Unix(), "nbf": now.Add(-5 * time.Second).Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"repository": "acme/widgets", "repository_owner": "acme", "ref": "refs/heads/main", "ref_type": "branch",
		"sha": "4b1f0c0de", "workflow": "deploy", "run_id": itoa(1000 + run), "run_attempt": "1",
		"event_name": "push", "actor": "octocat", "environment": "production",
	}
}

// gitlabClaims are the claims of a GitLab CI job token for acme/data-platform on main.
func gitlabClaims(iss, aud string, now time.Time) map[string]any {
	n := jtiSeq.Add(1)
	return map[string]any{
		"iss": iss, "aud": aud, "sub": "project_path:acme/data-platform:ref_type:branch:ref:main",
		"jti": "gl-" + itoa(n), "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"namespace_path": "acme", "project_path": "acme/data-platform", "ref": "main", "ref_type": "branch",
		"pipeline_id": itoa(5000 + n), "job_id": itoa(9000 + n), "user_login": "ada",
	}
}

func itoa(n int64) string { return jsonNumber(n) }

func jsonNumber(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
