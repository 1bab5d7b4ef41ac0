package secret_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"tokend/secret"
)

func tagKey(tb testing.TB, b byte) *secret.TagKey {
	tb.Helper()
	k, err := secret.NewTagKey(bytes.Repeat([]byte{b}, 32))
	if err != nil {
		tb.Fatalf("NewTagKey: got error %v, want nil", err)
	}
	return k
}

func generateTagged(tb testing.TB, k secret.Kind, key *secret.TagKey) (token, uid string) {
	tb.Helper()
	token, uid, err := secret.Generate(rand.Reader, k, key)
	if err != nil {
		tb.Fatalf("Generate(%v, key): got error %v, want nil", k, err)
	}
	return token, uid
}

// wantTag is an independent oracle for the tag, built on crypto/hmac.
func wantTag(key []byte, s string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(s))
	v := binary.BigEndian.Uint64(m.Sum(nil))
	out := make([]byte, 8)
	for i := len(out) - 1; i >= 0; i-- {
		out[i] = base62[v%62]
		v /= 62
	}
	return string(out)
}

func TestTaggedShape(t *testing.T) {
	raw := bytes.Repeat([]byte{7}, 32)
	key, err := secret.NewTagKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []secret.Kind{secret.PAT, secret.Service, secret.SCIM} {
		t.Run(kind.String(), func(t *testing.T) {
			token, uid := generateTagged(t, kind, key)
			if got, want := len(token), 5+49; got != want {
				t.Fatalf("len(token): got %d, want %d", got, want)
			}
			if got, want := token[:15], kind.Prefix()+uid; got != want {
				t.Errorf("prefix and uid: got %q, want %q", got, want)
			}
			if got, want := token[40:48], wantTag(raw, token[:40]); got != want {
				t.Errorf("tag: got %q, want %q", got, want)
			}
			if got, want := token[48:], wantChecksum(token[:48]); got != want {
				t.Errorf("checksum: got %q, want %q", got, want)
			}
			p, err := secret.Parse(token)
			if err != nil {
				t.Fatalf("Parse: got error %v, want nil", err)
			}
			if want := (secret.Parsed{Kind: kind, Format: secret.Current, UID: uid, Tagged: true}); p != want {
				t.Errorf("Parse: got %+v, want %+v", p, want)
			}
			if !key.Valid(token) {
				t.Errorf("Valid with the minting key: got false, want true")
			}
			if tagKey(t, 8).Valid(token) {
				t.Errorf("Valid with another key: got true, want false")
			}
		})
	}
}

func TestTagValid(t *testing.T) {
	key := tagKey(t, 1)
	tagged, _ := generateTagged(t, secret.PAT, key)
	untagged, _ := generate(t, secret.PAT)
	// A tag changed and the checksum made right again: what someone without the key sends.
	forged := tagged[:40] + "00000000"
	forged += wantChecksum(forged)
	tests := []struct {
		name  string
		key   *secret.TagKey
		token string
		want  bool
	}{
		{"minted with the key", key, tagged, true},
		{"another key", tagKey(t, 2), tagged, false},
		{"no key", nil, tagged, false},
		{"forged tag", key, forged, false},
		{"untagged", key, untagged, false},
		{"legacy key", key, "0123456789abcdef0123456789abcdef01234567", false},
		{"empty", key, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.key.Valid(tt.token); got != tt.want {
				t.Errorf("Valid: got %v, want %v", got, tt.want)
			}
		})
	}
	// The forged token is well formed: only the tag tells it apart.
	if p, err := secret.Parse(forged); err != nil || !p.Tagged {
		t.Errorf("Parse(forged): got (%+v, %v), want a tagged token", p, err)
	}
}

// TestTaggedTyposCaughtByChecksum: the checksum, not the tag, refuses a mistyped tagged token,
// so Parse still answers typos before anything else looks at it.
func TestTaggedTyposCaughtByChecksum(t *testing.T) {
	key := tagKey(t, 3)
	for _, kind := range []secret.Kind{secret.PAT, secret.Service, secret.SCIM} {
		t.Run(kind.String(), func(t *testing.T) {
			token, _ := generateTagged(t, kind, key)
			substitutionsRefused(t, token)
		})
	}
}

func TestTaggedLengths(t *testing.T) {
	key := tagKey(t, 4)
	token, _ := generateTagged(t, secret.PAT, key)
	for _, n := range []int{47, 53, 56, 60} {
		var s string
		if n <= len(token) {
			s = token[:n]
		} else {
			s = token + strings.Repeat("0", n-len(token))
		}
		if _, err := secret.Parse(s); !errors.Is(err, secret.ErrMalformed) && !errors.Is(err, secret.ErrChecksum) {
			t.Errorf("Parse of %d characters: got %v, want ErrMalformed or ErrChecksum", n, err)
		}
	}
}

func TestNewTagKey(t *testing.T) {
	for _, n := range []int{0, 15, 65} {
		if _, err := secret.NewTagKey(make([]byte, n)); !errors.Is(err, secret.ErrTagKey) {
			t.Errorf("NewTagKey of %d bytes: got %v, want ErrTagKey", n, err)
		}
	}
	for _, n := range []int{16, 32, 64} {
		if _, err := secret.NewTagKey(make([]byte, n)); err != nil {
			t.Errorf("NewTagKey of %d bytes: got %v, want nil", n, err)
		}
	}
}

func TestTagCheckDoesNotAllocate(t *testing.T) {
	key := tagKey(t, 5)
	token, _ := generateTagged(t, secret.PAT, key)
	tests := []struct {
		name string
		fn   func()
	}{
		{"Parse", func() { _, _ = secret.Parse(token) }},
		{"Valid", func() { _ = key.Valid(token) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := testing.AllocsPerRun(100, tt.fn); got != 0 {
				t.Errorf("allocs per call: got %v, want 0", got)
			}
		})
	}
}

func BenchmarkTagValid(b *testing.B) {
	key := tagKey(b, 6)
	token, _ := generateTagged(b, secret.PAT, key)
	b.ReportAllocs()
	for b.Loop() {
		if !key.Valid(token) {
			b.Fatal("Valid: got false, want true")
		}
	}
}
