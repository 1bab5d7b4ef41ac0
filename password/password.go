// Package password hashes and checks sign-in passwords with argon2id, encoded in the PHC string
// format so that parameters can be raised later without breaking stored hashes.
package password

import (
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id's cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// Default follows OWASP's argon2id recommendation (19 MiB, two passes, one lane).
var Default = Params{Memory: 19 * 1024, Time: 2, Threads: 1}

// MinLength is the shortest password accepted.
const MinLength = 10

// ErrMismatch means the password does not match the hash.
var ErrMismatch = errors.New("password: mismatch")

// ErrBadHash means the stored hash is not an argon2id PHC string.
var ErrBadHash = errors.New("password: unrecognised hash")

const keyLen = 32

// Hash returns the PHC encoding of password under a fresh 16-byte salt read from r.
func Hash(r io.Reader, password string, p Params) (string, error) {
	salt := make([]byte, 16)
	if _, err := io.ReadFull(r, salt); err != nil {
		return "", fmt.Errorf("password: salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, keyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// Verify checks password against an encoded hash in constant time.
func Verify(password, encoded string) error {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return ErrBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return ErrBadHash
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return ErrBadHash
	}
	if p.Memory == 0 || p.Memory > 1<<22 || p.Time == 0 || p.Time > 16 || p.Threads == 0 {
		return ErrBadHash
	}
	enc := base64.RawStdEncoding
	salt, err := enc.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return ErrBadHash
	}
	want, err := enc.DecodeString(parts[5])
	if err != nil || len(want) < 16 {
		return ErrBadHash
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return ErrMismatch
	}
	return nil
}
