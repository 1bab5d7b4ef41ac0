// Package secret implements the token format: generate, parse, checksum,
// hash, constant-time compare.
//
// A current-format token is a kind prefix ("dbtu_", "dbtc_", or "dbts_" for a SCIM token) followed by
// base62 characters in one of two shapes:
//
//   - tagged (49 characters, what tokend mints): a 10-character public UID, a 25-character
//     secret, an 8-character tag (see TagKey) and a 6-character checksum;
//   - untagged (50 characters, minted before tags existed): a 10-character UID, a
//     34-character secret and a 6-character checksum.
//
// The checksum lets Parse reject typos without a database lookup. Two older shapes are
// recognised for imported tokens: "<prefix><uid>_<secret>" and 40-character lowercase hex
// legacy keys.
package secret

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strconv"
	"strings"
)

// Kind is the kind of principal a token authenticates. Kind and Format are bytes so that
// Parsed, returned on every request, stays three words.
type Kind uint8

const (
	PAT       Kind = iota + 1 // personal access token
	Service                   // service token
	LegacyKey                 // legacy 40-hex user API key
	SCIM                      // SCIM token: provisions users of one account, nothing else
)

// String returns the kind's stable name, suitable for storage and logs.
func (k Kind) String() string {
	switch k {
	case PAT:
		return "pat"
	case Service:
		return "service"
	case LegacyKey:
		return "legacy_key"
	case SCIM:
		return "scim"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Prefix returns the token prefix of the kind; legacy keys have none.
func (k Kind) Prefix() string {
	switch k {
	case PAT:
		return prefixPAT
	case Service:
		return prefixService
	case SCIM:
		return prefixSCIM
	}
	return ""
}

// Format tells how a token must be verified.
type Format uint8

const (
	// Current tokens carry a checksum and are stored as a fast SHA-256 hash.
	Current Format = iota + 1
	// OldFormat tokens and legacy keys are stored with SlowHash.
	OldFormat
)

// Parsed is what can be learnt from a token string without a database.
type Parsed struct {
	Kind   Kind
	Format Format
	// Tagged is set for a current-format token of the tagged shape, whose tag TagKey.Valid
	// checks.
	Tagged bool
	UID    string
}

var (
	ErrMalformed = errors.New("secret: malformed token") // wrong length, charset, prefix, shape
	ErrChecksum  = errors.New("secret: checksum mismatch")
	ErrKind      = errors.New("secret: unknown token kind")
)

const (
	prefixPAT     = "dbtu_"
	prefixService = "dbtc_"
	prefixSCIM    = "dbts_"
	prefixLen     = 5

	// alphabet doubles as the digit order of the checksum, so '0' is zero
	// and left-padding with '0' does not change the value.
	alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

	uidLen      = 10
	checksumLen = 6

	// The untagged shape.
	secretLen = 34
	bodyLen   = uidLen + secretLen + checksumLen
	tokenLen  = prefixLen + bodyLen

	// The tagged shape: uid and secret hold 35 random characters (208 bits), then the tag.
	// The whole token is 54 bytes: SHA-256 hashes up to 55 in one 64-byte block (with its
	// padding and length), and every request hashes its token, so a longer shape would cost
	// the cached verification a second block.
	taggedSecretLen = 25
	taggedBodyLen   = uidLen + taggedSecretLen + tagLen + checksumLen
	taggedTokenLen  = prefixLen + taggedBodyLen
	taggedTagAt     = prefixLen + uidLen + taggedSecretLen // where the tag starts

	oldUIDMin, oldUIDMax       = 4, 40
	oldSecretMin, oldSecretMax = 16, 128

	legacyKeyBytes  = 20
	legacyKeyLen    = 2 * legacyKeyBytes
	legacyKeyUIDLen = 8
)

// Parse classifies s and extracts its UID. It does not allocate: the UID is
// a substring of s and errors are unwrapped sentinels, since it runs on
// every authenticated request.
func Parse(s string) (Parsed, error) {
	if len(s) == legacyKeyLen && isLowerHex(s) {
		return Parsed{Kind: LegacyKey, Format: OldFormat, UID: s[:legacyKeyUIDLen]}, nil
	}
	var kind Kind
	switch {
	case len(s) < prefixLen:
		return Parsed{}, ErrMalformed
	case s[:prefixLen] == prefixPAT:
		kind = PAT
	case s[:prefixLen] == prefixService:
		kind = Service
	case s[:prefixLen] == prefixSCIM:
		kind = SCIM
	default:
		return Parsed{}, ErrMalformed
	}
	rest := s[prefixLen:]
	// One pass over the body for the character classes; the rare '_' of an old-format token
	// (its first one splits uid and secret) is looked for only when the pass saw one.
	var bad uint8
	for i := range len(rest) {
		bad |= charClass[rest[i]]
	}
	if bad&classSep != 0 {
		if kind == SCIM {
			return Parsed{}, ErrMalformed // SCIM tokens were never issued in the old format
		}
		i := strings.IndexByte(rest, '_')
		return parseOld(kind, rest[:i], rest[i+1:])
	}
	if bad != 0 {
		return Parsed{}, ErrMalformed
	}
	// One case per shape, so that every length is a constant (the untagged shape, all tokens
	// in use today, pays nothing for the tagged one).
	switch len(s) {
	case tokenLen:
		if want := checksum(s[:tokenLen-checksumLen]); s[tokenLen-checksumLen:] != string(want[:]) {
			return Parsed{}, ErrChecksum
		}
		return Parsed{Kind: kind, Format: Current, UID: rest[:uidLen]}, nil
	case taggedTokenLen:
		if want := checksum(s[:taggedTokenLen-checksumLen]); s[taggedTokenLen-checksumLen:] != string(want[:]) {
			return Parsed{}, ErrChecksum
		}
		return Parsed{Kind: kind, Format: Current, UID: rest[:uidLen], Tagged: true}, nil
	}
	return Parsed{}, ErrMalformed
}

// parseOld validates the "<uid>_<secret>" remainder of an old-format token.
func parseOld(kind Kind, uid, sec string) (Parsed, error) {
	if len(uid) < oldUIDMin || len(uid) > oldUIDMax || !isAlnum(uid) ||
		len(sec) < oldSecretMin || len(sec) > oldSecretMax || !isAlnum(sec) {
		return Parsed{}, ErrMalformed
	}
	return Parsed{Kind: kind, Format: OldFormat, UID: uid}, nil
}

// Generate returns a new token of kind k and its UID, drawing randomness
// from r (crypto/rand.Reader in production). With a key, a PAT, service or SCIM token
// takes the tagged shape, tagged with key; without one, the untagged shape (for tools and
// tests that stand for tokens minted before tags). A legacy key is the same either way.
func Generate(r io.Reader, k Kind, key *TagKey) (token, uid string, err error) {
	switch k {
	case PAT, Service, SCIM:
	case LegacyKey:
		var raw [legacyKeyBytes]byte
		if _, err := io.ReadFull(r, raw[:]); err != nil {
			return "", "", fmt.Errorf("secret: reading randomness: %w", err)
		}
		token = hex.EncodeToString(raw[:])
		return token, token[:legacyKeyUIDLen], nil
	default:
		return "", "", ErrKind
	}
	var arr [max(tokenLen, taggedTokenLen)]byte
	buf := arr[:tokenLen]
	copy(buf, k.Prefix())
	if key == nil {
		if err := randomAlnum(r, buf[prefixLen:tokenLen-checksumLen]); err != nil {
			return "", "", err
		}
	} else {
		buf = arr[:taggedTokenLen]
		if err := randomAlnum(r, buf[prefixLen:taggedTagAt]); err != nil {
			return "", "", err
		}
		tag := key.tag(string(buf[:taggedTagAt]))
		copy(buf[taggedTagAt:], tag[:])
	}
	n := len(buf) - checksumLen
	sum := checksum(string(buf[:n]))
	copy(buf[n:], sum[:])
	token = string(buf)
	return token, token[prefixLen : prefixLen+uidLen], nil
}

// randomAlnum fills dst with characters drawn uniformly from alphabet.
// Bytes >= 248 (the largest multiple of 62 that fits) are rejected so that
// the modulo does not favour the first characters.
func randomAlnum(r io.Reader, dst []byte) error {
	const limit = 256 - 256%len(alphabet)
	var buf [64]byte
	for n := 0; n < len(dst); {
		chunk := buf[:min(len(dst)-n, len(buf))]
		if _, err := io.ReadFull(r, chunk); err != nil {
			return fmt.Errorf("secret: reading randomness: %w", err)
		}
		for _, b := range chunk {
			if int(b) < limit {
				dst[n] = alphabet[int(b)%len(alphabet)]
				n++
			}
		}
	}
	return nil
}

// checksum returns the CRC32 (IEEE) of s as 6 base62 digits. 62^6 > 2^32,
// so every CRC fits. The CRC runs over the string eight bytes at a time
// (slicing-by-8): crc32.ChecksumIEEE needs a []byte, and converting would
// allocate.
func checksum(s string) [checksumLen]byte {
	t := &crcTables
	crc := ^uint32(0)
	for len(s) >= 8 {
		crc ^= uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
		crc = t[0][s[7]] ^ t[1][s[6]] ^ t[2][s[5]] ^ t[3][s[4]] ^
			t[4][crc>>24] ^ t[5][crc>>16&0xff] ^ t[6][crc>>8&0xff] ^ t[7][crc&0xff]
		s = s[8:]
	}
	for i := 0; i < len(s); i++ {
		crc = t[0][byte(crc)^s[i]] ^ (crc >> 8)
	}
	crc = ^crc
	var out [checksumLen]byte
	for i := checksumLen - 1; i >= 0; i-- {
		out[i] = alphabet[crc%uint32(len(alphabet))]
		crc /= uint32(len(alphabet))
	}
	return out
}

// crcTables are the slicing-by-8 tables of the IEEE polynomial: crcTables[0] is
// crc32.IEEETable, and each next one advances the previous by a zero byte. Built once, never
// written after.
var crcTables = func() (t [8][256]uint32) {
	t[0] = *crc32.IEEETable
	for i := range 256 {
		crc := t[0][i]
		for j := 1; j < 8; j++ {
			crc = t[0][crc&0xff] ^ (crc >> 8)
			t[j][i] = crc
		}
	}
	return t
}()

// The classes of a token body's characters: alphanumerics are 0, so that OR-ing the classes
// of a body tells whether any character is not one.
const (
	classAlnum = 0
	classOther = 1
	classSep   = 2 // '_', between an old-format token's uid and secret (a bit of its own)
)

// charClass is the class of every byte; built once, never written after.
var charClass = func() (t [256]uint8) {
	for c := range t {
		t[c] = classOther
	}
	for _, c := range alphabet {
		t[c] = classAlnum
	}
	t['_'] = classSep
	return t
}()

func isAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		if charClass[s[i]] != classAlnum {
			return false
		}
	}
	return true
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// Hash returns the SHA-256 of the whole token, the stored form of
// current-format tokens: they carry 208 (tagged) or 262 (untagged) random
// bits, so a fast unsalted hash is enough.
func Hash(token string) [32]byte {
	// A non-escaping []byte(token) is only kept on the stack up to 32
	// bytes; copying into a larger stack buffer keeps every well-formed
	// token (at most 174 bytes) allocation-free.
	var buf [256]byte
	if len(token) <= len(buf) {
		n := copy(buf[:], token)
		return sha256.Sum256(buf[:n])
	}
	return sha256.Sum256([]byte(token))
}

// HashHex returns Hash as lowercase hex.
func HashHex(token string) string {
	h := Hash(token)
	return hex.EncodeToString(h[:])
}

// Equal reports whether a and b are equal in time independent of their
// contents, so comparing hashes leaks nothing through timing.
func Equal(a, b []byte) bool {
	return subtle.ConstantTimeCompare(a, b) == 1
}

// Redact returns a form of s safe for logs: the prefix and UID followed by
// "…", the first 8 characters of a legacy key followed by "…", or
// "[redacted]" for anything Parse rejects.
func Redact(s string) string {
	p, err := Parse(s)
	if err != nil {
		return "[redacted]"
	}
	return p.Kind.Prefix() + p.UID + "…"
}
