package secret

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// DefaultIterations is the PBKDF2 work factor for new slow hashes; it is
// Django 4.2's default, the OWASP 2023 recommendation for PBKDF2-SHA256.
const DefaultIterations = 600000

var ErrBadHash = errors.New("secret: unrecognised slow hash")

const (
	slowAlgorithm  = "pbkdf2_sha256"
	slowSaltLen    = 22 // as Django's PBKDF2PasswordHasher.salt()
	slowKeyLen     = sha256.Size
	maxIterations  = 10_000_000
	slowFieldCount = 4
)

// SlowHash returns a salted PBKDF2-HMAC-SHA256 hash of token in Django's
// password-hasher encoding,
// "pbkdf2_sha256$<iterations>$<salt>$<base64 key>", so hashes exported
// from a Django-based system import unchanged. The salt is drawn from r.
func SlowHash(r io.Reader, token string, iterations int) (string, error) {
	if iterations < 1 || iterations > maxIterations {
		return "", fmt.Errorf("%w: iterations %d out of range", ErrBadHash, iterations)
	}
	var salt [slowSaltLen]byte
	if err := randomAlnum(r, salt[:]); err != nil {
		return "", err
	}
	key, err := pbkdf2.Key(sha256.New, token, salt[:], iterations, slowKeyLen)
	if err != nil {
		return "", fmt.Errorf("secret: deriving key: %w", err)
	}
	return slowAlgorithm + "$" + strconv.Itoa(iterations) + "$" + string(salt[:]) + "$" +
		base64.StdEncoding.EncodeToString(key), nil
}

// VerifySlow reports whether token matches an encoding produced by SlowHash
// or by Django. A malformed encoding is ErrBadHash rather than false, so a
// corrupt row is not mistaken for a wrong token.
func VerifySlow(token, encoded string) (bool, error) {
	iterations, salt, want, err := parseSlow(encoded)
	if err != nil {
		return false, err
	}
	got, err := pbkdf2.Key(sha256.New, token, []byte(salt), iterations, slowKeyLen)
	if err != nil {
		return false, fmt.Errorf("secret: deriving key: %w", err)
	}
	return Equal(got, want), nil
}

// CheckSlowHash reports whether encoded is a slow hash VerifySlow can use, without the cost of
// deriving a key: for validating imported hashes.
func CheckSlowHash(encoded string) error {
	_, _, _, err := parseSlow(encoded)
	return err
}

func parseSlow(encoded string) (iterations int, salt string, key []byte, err error) {
	fields := strings.Split(encoded, "$")
	if len(fields) != slowFieldCount || fields[0] != slowAlgorithm {
		return 0, "", nil, ErrBadHash
	}
	iterations, ok := parseIterations(fields[1])
	if !ok {
		return 0, "", nil, ErrBadHash
	}
	salt = fields[2]
	if salt == "" {
		return 0, "", nil, ErrBadHash
	}
	key, err = base64.StdEncoding.Strict().DecodeString(fields[3])
	if err != nil || len(key) != slowKeyLen {
		return 0, "", nil, ErrBadHash
	}
	return iterations, salt, key, nil
}

// parseIterations accepts only plain decimal digits, since strconv.Atoi
// would also take a sign, and bounds the count so that a hostile row
// cannot stall the server.
func parseIterations(s string) (int, bool) {
	if s == "" || len(s) > len(strconv.Itoa(maxIterations)) {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, n >= 1 && n <= maxIterations
}
