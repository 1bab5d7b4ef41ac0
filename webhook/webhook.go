// Package webhook signs webhook messages the way the Standard Webhooks specification says
// (https://www.standardwebhooks.com): a secret "whsec_<base64>", and the headers webhook-id,
// webhook-timestamp and webhook-signature, "v1,<base64 HMAC-SHA256 of id.timestamp.body>". It
// also gives the HTTP client that delivers them without reaching the sender's own network
// (client.go). A leaf: the standard library only.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"
)

// SecretPrefix starts every signing secret.
const SecretPrefix = "whsec_"

// The bounds of a secret's key, in bytes (the specification asks for at least 24).
const (
	MinKeyBytes = 24
	MaxKeyBytes = 64
	keyBytes    = 32 // what NewSecret makes
)

// Headers of a signed message.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// ErrSecret answers a secret that is not "whsec_" and the base64 of 24 to 64 bytes.
var ErrSecret = errors.New("a webhook secret is \"whsec_\" followed by the base64 of 24 to 64 random bytes")

// NewSecret returns a new secret made from random (crypto/rand in production).
func NewSecret(random io.Reader) (string, error) {
	key := make([]byte, keyBytes)
	if _, err := io.ReadFull(random, key); err != nil {
		return "", err
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(key), nil
}

// ParseSecret returns the key of a secret.
func ParseSecret(secret string) ([]byte, error) {
	enc, ok := strings.CutPrefix(secret, SecretPrefix)
	if !ok {
		return nil, ErrSecret
	}
	key, err := base64.StdEncoding.DecodeString(enc)
	if err != nil || len(key) < MinKeyBytes || len(key) > MaxKeyBytes {
		return nil, ErrSecret
	}
	return key, nil
}

// Sign returns the signature of one attempt to send body as message id at ts, with each of
// the secrets (more than one while a rotated-out secret is still honoured): "v1,<sig>"
// separated by spaces.
func Sign(secrets []string, id string, ts time.Time, body []byte) (string, error) {
	var out []string
	stamp := strconv.FormatInt(ts.Unix(), 10)
	for _, s := range secrets {
		key, err := ParseSecret(s)
		if err != nil {
			return "", err
		}
		m := hmac.New(sha256.New, key)
		m.Write([]byte(id))
		m.Write([]byte{'.'})
		m.Write([]byte(stamp))
		m.Write([]byte{'.'})
		m.Write(body)
		out = append(out, "v1,"+base64.StdEncoding.EncodeToString(m.Sum(nil)))
	}
	return strings.Join(out, " "), nil
}
