package secret

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
)

// A tagged token carries, between its secret and its checksum, a tag: a MAC of its prefix,
// uid and secret under its cluster's TagKey. A node holding the key tells from the string
// alone whether its cluster minted the token: one that did not cannot have a valid tag,
// whatever its checksum. The tag is no part of authentication (the stored hash is); it only
// tells a server which unknown tokens could be newer than what it has heard of.

// tagLen is the tag's length in base62 digits: 62^8 ≈ 2^47.6 values.
const tagLen = 8

// TagKey is a cluster's key for the tags of the tokens it mints. It is safe for concurrent
// use and never changes.
type TagKey struct {
	// ipad and opad are the key XOR-ed with HMAC's pads (RFC 2104), so that a tag costs two
	// SHA-256 sums of stack buffers and no allocation.
	ipad, opad [sha256.BlockSize]byte
}

// ErrTagKey refuses a tag key of fewer than 16 or more than 64 bytes.
var ErrTagKey = errors.New("secret: a tag key must be 16 to 64 bytes")

// NewTagKey returns the tag key made of key's bytes (at least 16, at most 64).
func NewTagKey(key []byte) (*TagKey, error) {
	if len(key) < 16 || len(key) > sha256.BlockSize {
		return nil, ErrTagKey
	}
	k := &TagKey{}
	for i := range sha256.BlockSize {
		var b byte
		if i < len(key) {
			b = key[i]
		}
		k.ipad[i] = b ^ 0x36
		k.opad[i] = b ^ 0x5c
	}
	return k, nil
}

// tag returns the tag of s, the prefix, uid and secret of a tagged token: the first 8 bytes
// of HMAC-SHA256(key, s) as 8 base62 digits. s is at most taggedTokenLen bytes.
func (k *TagKey) tag(s string) [tagLen]byte {
	var in [sha256.BlockSize + taggedTokenLen]byte
	copy(in[:], k.ipad[:])
	n := copy(in[sha256.BlockSize:], s)
	inner := sha256.Sum256(in[:sha256.BlockSize+n])
	var out [sha256.BlockSize + sha256.Size]byte
	copy(out[:], k.opad[:])
	copy(out[sha256.BlockSize:], inner[:])
	mac := sha256.Sum256(out[:])
	// 2^64 is no multiple of 62^8; the bias the modulo leaves is below 2^-17 of a value's
	// probability, nothing a guess can use.
	v := binary.BigEndian.Uint64(mac[:8])
	var t [tagLen]byte
	for i := tagLen - 1; i >= 0; i-- {
		t[i] = alphabet[v%uint64(len(alphabet))]
		v /= uint64(len(alphabet))
	}
	return t
}

// Valid reports whether token is a tagged token minted with k: Parse accepted it with
// Tagged set, and its tag is k's tag of its prefix, uid and secret. It does not allocate.
// A false answer says only that this key did not mint it, not that it is no token.
func (k *TagKey) Valid(token string) bool {
	if k == nil || len(token) != taggedTokenLen {
		return false
	}
	want := k.tag(token[:taggedTagAt])
	return token[taggedTagAt:taggedTagAt+tagLen] == string(want[:])
}
