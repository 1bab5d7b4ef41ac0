package password

import (
	"crypto/rand"
	"errors"
	"strings"
	"testing"
)

// fast keeps the tests quick; the encoding carries the parameters, so Verify needs no hint.
var fast = Params{Memory: 64, Time: 1, Threads: 1}

func TestHashVerify(t *testing.T) {
	h, err := Hash(rand.Reader, "correct horse battery", fast)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("got encoding %q, want the PHC argon2id prefix", h)
	}
	tests := []struct {
		name     string
		password string
		encoded  string
		want     error
	}{
		{"match", "correct horse battery", h, nil},
		{"wrong password", "correct horse batterz", h, ErrMismatch},
		{"empty password", "", h, ErrMismatch},
		{"not phc", "x", "plaintext", ErrBadHash},
		{"other algorithm", "x", strings.Replace(h, "argon2id", "argon2i", 1), ErrBadHash},
		{"bad params", "x", strings.Replace(h, "m=64", "m=0", 1), ErrBadHash},
		{"huge memory", "x", strings.Replace(h, "m=64", "m=99999999", 1), ErrBadHash},
		{"truncated", "x", h[:len(h)-30], ErrBadHash},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Verify(tt.password, tt.encoded); !errors.Is(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestHashSalts(t *testing.T) {
	a, _ := Hash(rand.Reader, "same password", fast)
	b, _ := Hash(rand.Reader, "same password", fast)
	if a == b {
		t.Errorf("got equal hashes %q for two salts, want different", a)
	}
}
