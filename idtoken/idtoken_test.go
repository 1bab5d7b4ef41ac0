package idtoken_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"tokend/idtoken"
)

func keySet(t *testing.T, keys ...any) string {
	t.Helper()
	var set jose.JSONWebKeySet
	for _, k := range keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k, KeyID: "k"})
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCheckKeySet(t *testing.T) {
	rsa2048, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	edPub, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	v := idtoken.New(idtoken.Options{})
	tests := []struct {
		name    string
		jwks    string
		wantErr string // "" for accepted
	}{
		{"RSA 2048, P-256 and Ed25519 public keys", keySet(t, rsa2048.Public(), p256.Public(), edPub), ""},
		{"a private RSA key", keySet(t, rsa2048), "private key"},
		{"a private Ed25519 key", keySet(t, edPriv), "private key"},
		{"RSA under 2048 bits", keySet(t, rsa1024.Public()), "2048 bits"},
		{"EC on P-384", keySet(t, p384.Public()), "P-256"},
		{"a symmetric key", `{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}`, "private key"},
		{"no keys", `{"keys": []}`, "no key"},
		{"not JSON", `keys`, "not a JSON Web Key Set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := v.CheckKeySet([]byte(tt.jwks))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("got %v, want it accepted", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("got %v, want an error saying %q", err, tt.wantErr)
			}
		})
	}
}

func TestIssuerRefusesUnsignedAndHMAC(t *testing.T) {
	v := idtoken.New(idtoken.Options{})
	for name, raw := range map[string]string{
		"alg none": "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJpc3MiOiJodHRwczovL2lzcy5leGFtcGxlIn0.",
		"HS256":    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJodHRwczovL2lzcy5leGFtcGxlIn0.c2lnbmF0dXJl",
		"garbage":  "not.a.jwt",
		"empty":    "",
	} {
		if iss, err := v.Issuer(raw); err == nil {
			t.Errorf("%s: got issuer %q, want a refusal", name, iss)
		}
	}
}
