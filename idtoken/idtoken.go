// Package idtoken verifies the ID tokens (OIDC JWTs) that CI jobs and cloud workloads present
// for a token exchange, with go-oidc and go-jose: the issuer's keys come from its discovery
// document (cached, and fetched again when a token names a key not seen yet, at most every ten
// seconds) or from a key set
// pinned in the trust policy; only asymmetric signatures are accepted; iss, aud, exp, nbf and
// iat are checked with a small leeway.
package idtoken

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"tokend"
)

// algorithms are the only signatures accepted: never none, never HMAC (whose "secret" would be
// the issuer's public key).
var algorithms = []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA}

var algorithmNames = []string{oidc.RS256, oidc.ES256, oidc.EdDSA}

// discoveryTTL is how long an issuer's discovery document is trusted before it is read again;
// its keys are fetched again sooner, whenever a token names a key not seen yet.
const discoveryTTL = time.Hour

// Options configure a Verifier.
type Options struct {
	// HTTPClient fetches discovery documents and key sets (a client with a 10 s timeout).
	HTTPClient *http.Client
	// Now is the clock of the discovery cache (time.Now); token times are checked against the
	// time the caller gives.
	Now func() time.Time
}

// Verifier is a tokend.IDTokenVerifier. It is safe for concurrent use.
type Verifier struct {
	client *http.Client
	now    func() time.Time

	mu      sync.Mutex
	issuers map[string]*remoteKeySet
}

var _ tokend.IDTokenVerifier = (*Verifier)(nil)

// New returns a Verifier.
func New(opts Options) *Verifier {
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Verifier{client: opts.HTTPClient, now: opts.Now, issuers: map[string]*remoteKeySet{}}
}

// refused is a problem with the token itself, worded for the caller.
func refused(format string, args ...any) error {
	return tokend.Errorf(tokend.EUnauthenticated, format, args...)
}

var errNotJWS = refused("it is not a JWT signed with RS256, ES256 or EdDSA (alg none and HMAC are refused).")

// Issuer returns raw's iss claim, unverified.
func (v *Verifier) Issuer(raw string) (string, error) {
	tok, err := jwt.ParseSigned(raw, algorithms)
	if err != nil {
		return "", errNotJWS
	}
	var c jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&c); err != nil {
		return "", refused("its claims cannot be read.")
	}
	if c.Issuer == "" {
		return "", refused("it has no iss claim.")
	}
	return c.Issuer, nil
}

// Verify checks raw against one trust policy's expectations.
func (v *Verifier) Verify(ctx context.Context, raw string, c tokend.IDTokenCheck) (*tokend.IDToken, error) {
	var keys oidc.KeySet
	if c.JWKS != "" {
		pub, err := publicKeys([]byte(c.JWKS))
		if err != nil {
			return nil, tokend.Errorf(tokend.EInternal, "pinned key set of %s: %v", c.Issuer, err)
		}
		keys = &oidc.StaticKeySet{PublicKeys: pub}
	} else {
		rks, err := v.remoteKeys(ctx, c.Issuer)
		if err != nil {
			return nil, err
		}
		if err := rks.ready(ctx); err != nil {
			return nil, tokend.Errorf(tokend.EUnavailable, "keys of %s: %v", c.Issuer, err)
		}
		keys = rks
	}
	// go-oidc checks the algorithm, the signature and iss; aud and the times are checked below
	// on the verified claims, so that nothing about the policy is learnt from a forged token.
	verifier := oidc.NewVerifier(c.Issuer, keys, &oidc.Config{SupportedSigningAlgs: algorithmNames,
		SkipClientIDCheck: true, SkipExpiryCheck: true})
	tok, err := verifier.Verify(ctx, raw)
	if err != nil {
		if _, perr := jwt.ParseSigned(raw, algorithms); perr != nil {
			return nil, errNotJWS
		}
		return nil, refused("its signature does not verify with the issuer's keys (or it names an unknown key).")
	}
	var std jwt.Claims
	var all map[string]any
	if err := tok.Claims(&std); err != nil {
		return nil, refused("its registered claims are malformed.")
	}
	if err := tok.Claims(&all); err != nil {
		return nil, refused("its claims are malformed.")
	}
	if std.Expiry == nil {
		return nil, refused("it has no exp claim.")
	}
	err = std.ValidateWithLeeway(jwt.Expected{Issuer: c.Issuer, AnyAudience: jwt.Audience{c.Audience}, Time: c.Now}, tokend.IDTokenLeeway)
	switch {
	case err == nil:
	case errors.Is(err, jwt.ErrInvalidIssuer):
		return nil, refused("its issuer is not the trust policy's.")
	case errors.Is(err, jwt.ErrInvalidAudience):
		return nil, refused("its audience (aud) is not the one the trust policy expects.")
	case errors.Is(err, jwt.ErrExpired):
		return nil, refused("it expired (exp).")
	case errors.Is(err, jwt.ErrNotValidYet):
		return nil, refused("it is not valid yet (nbf).")
	case errors.Is(err, jwt.ErrIssuedInTheFuture):
		return nil, refused("it was issued in the future (iat).")
	default:
		return nil, refused("its claims do not validate.")
	}
	out := &tokend.IDToken{Issuer: std.Issuer, Subject: std.Subject, Audience: std.Audience, ID: std.ID,
		ExpiresAt: std.Expiry.Time(), Claims: all}
	if std.IssuedAt != nil {
		out.IssuedAt = std.IssuedAt.Time()
	}
	if std.NotBefore != nil {
		out.NotBefore = std.NotBefore.Time()
	}
	return out, nil
}

// remoteKeys returns the issuer's key set, reading its discovery document (with go-oidc, which
// also checks that the document names this issuer) when it is not cached or is older than
// discoveryTTL.
func (v *Verifier) remoteKeys(ctx context.Context, issuer string) (*remoteKeySet, error) {
	now := v.now()
	v.mu.Lock()
	e := v.issuers[issuer]
	v.mu.Unlock()
	if e != nil && now.Sub(e.discovered) < discoveryTTL {
		return e, nil
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, v.client), issuer)
	if err != nil {
		return nil, tokend.Errorf(tokend.EUnavailable, "discovery of %s: %v", issuer, err)
	}
	var doc struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if err := p.Claims(&doc); err != nil || doc.JWKSURI == "" {
		return nil, tokend.Errorf(tokend.EUnavailable, "discovery of %s: no jwks_uri", issuer)
	}
	ks := &remoteKeySet{uri: doc.JWKSURI, client: v.client, now: v.now, discovered: now}
	if e != nil && e.uri == doc.JWKSURI {
		ks = e // same keys: keep them, only the discovery is fresh
		ks.mu.Lock()
		ks.discovered = now
		ks.mu.Unlock()
	}
	v.mu.Lock()
	v.issuers[issuer] = ks
	v.mu.Unlock()
	return ks, nil
}

// minRefresh bounds how often an issuer's key set is fetched again for a token that names a key
// id not in the cache: a stream of forged key ids costs the issuer, and tokend, one request per
// interval, not one per token.
const minRefresh = 10 * time.Second

// maxJWKSBytes bounds a key set read from an issuer.
const maxJWKSBytes = 1 << 20

// remoteKeySet is an issuer's published keys (an oidc.KeySet): fetched from its jwks_uri,
// cached, and fetched again, at most once per minRefresh, when a token names a key id that is
// not cached. A cached key that does not verify a signature is a bad signature, not a reason to
// fetch.
type remoteKeySet struct {
	uri    string
	client *http.Client
	now    func() time.Time

	mu         sync.Mutex
	discovered time.Time
	keys       []jose.JSONWebKey
	fetched    time.Time // zero: never
}

var _ oidc.KeySet = (*remoteKeySet)(nil)

// ready makes sure the keys were fetched once, so that an unreachable issuer is told apart from
// a bad signature.
func (k *remoteKeySet) ready(ctx context.Context) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.fetched.IsZero() {
		return nil
	}
	return k.refresh(ctx)
}

// VerifySignature verifies raw with the cached key its header names, and returns the payload.
// go-oidc has checked the algorithm before it calls this.
func (k *remoteKeySet) VerifySignature(ctx context.Context, raw string) ([]byte, error) {
	jws, err := jose.ParseSignedCompact(raw, algorithms)
	if err != nil {
		return nil, err
	}
	if len(jws.Signatures) != 1 {
		return nil, errors.New("exactly one signature is accepted")
	}
	for _, key := range k.keysFor(ctx, jws.Signatures[0].Header.KeyID) {
		if payload, err := jws.Verify(&key); err == nil {
			return payload, nil
		}
	}
	return nil, errors.New("no key of the issuer verifies the signature")
}

// keysFor returns the cached keys with id kid (every key for a token without one), fetching the
// set again first when none has that id and the last fetch is old enough.
func (k *remoteKeySet) keysFor(ctx context.Context, kid string) []jose.JSONWebKey {
	k.mu.Lock()
	defer k.mu.Unlock()
	age := k.now().Sub(k.fetched)
	// Keys are also read again once they are older than discoveryTTL, so that an issuer that
	// replaces a key under the same id is followed.
	if keys := matching(k.keys, kid); (len(keys) > 0 && age < discoveryTTL) || age < minRefresh {
		return keys
	}
	// A failed fetch keeps the keys cached before: an issuer that is down for a moment does not
	// stop tokens signed with keys already known.
	_ = k.refresh(ctx)
	return matching(k.keys, kid)
}

func matching(keys []jose.JSONWebKey, kid string) []jose.JSONWebKey {
	var out []jose.JSONWebKey
	for _, key := range keys {
		if kid == "" || key.KeyID == kid {
			out = append(out, key)
		}
	}
	return out
}

// refresh fetches the key set; k.mu is held. A failed fetch keeps the keys cached before and
// counts as a fetch, so that an unreachable issuer is not asked again at once.
func (k *remoteKeySet) refresh(ctx context.Context) error {
	k.fetched = k.now()
	// One caller's cancelled request must not leave everyone without keys until the next
	// interval; the client's timeout bounds the fetch.
	req, err := http.NewRequestWithContext(context.WithoutCancel(ctx), http.MethodGet, k.uri, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := k.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", k.uri, resp.Status)
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxJWKSBytes)).Decode(&set); err != nil {
		return fmt.Errorf("GET %s: not a JSON Web Key Set", k.uri)
	}
	// Keys of a type go-jose does not know, private keys and encryption keys are skipped: a
	// set may hold them for other uses.
	var keys []jose.JSONWebKey
	for _, raw := range set.Keys {
		var key jose.JSONWebKey
		if json.Unmarshal(raw, &key) != nil || !key.Valid() || !key.IsPublic() || (key.Use != "" && key.Use != "sig") {
			continue
		}
		keys = append(keys, key)
	}
	if len(keys) == 0 {
		return fmt.Errorf("GET %s: no signing key", k.uri)
	}
	k.keys = keys
	return nil
}

// CheckKeySet reports whether jwks is a key set a trust policy may pin.
func (v *Verifier) CheckKeySet(jwks []byte) error {
	_, err := publicKeys(jwks)
	return err
}

// publicKeys parses a JSON Web Key Set of public RSA (2048 bits or more), EC P-256 and Ed25519
// keys. A private key is refused: it has no business in a trust policy.
func publicKeys(jwks []byte) ([]crypto.PublicKey, error) {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(jwks, &set); err != nil {
		return nil, errors.New("it is not a JSON Web Key Set")
	}
	if len(set.Keys) == 0 {
		return nil, errors.New("it holds no key")
	}
	out := make([]crypto.PublicKey, 0, len(set.Keys))
	for i, k := range set.Keys {
		if !k.IsPublic() {
			return nil, fmt.Errorf("key %d is a private key; pin only public keys", i)
		}
		switch pub := k.Key.(type) {
		case *rsa.PublicKey:
			if pub.N.BitLen() < 2048 {
				return nil, fmt.Errorf("key %d: RSA keys must have at least 2048 bits", i)
			}
		case *ecdsa.PublicKey:
			if pub.Curve != elliptic.P256() {
				return nil, fmt.Errorf("key %d: EC keys must be on P-256", i)
			}
		case ed25519.PublicKey:
		default:
			return nil, fmt.Errorf("key %d is of an unsupported type", i)
		}
		out = append(out, k.Key)
	}
	return out, nil
}
