package secret_test

import (
	"strings"
	"testing"

	"tokend/secret"
)

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"dbtu_stuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ1Bk1Vu",
		"dbtu_stuvwxyz0123456789ABCDEFGHIJKLMNOPQ0000000002Z99M", // tagged, forged tag
		"dbtc_stuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ0BpU93",
		"dbtu_stuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ1Bk1Vv",
		"dbtc_stuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ1Bk1Vu",
		"dbtc_Ab12Cd34_Zx9Yw8Vu7Ts6Rq5Po4",
		"dbtu_abc_ssssssssssssssss",
		"0123456789abcdef0123456789abcdef01234567",
		"0123456789ABCDEF0123456789ABCDEF01234567",
		"dbtu_",
		"dbtu__",
		"",
		"é",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := secret.Parse(s)
		if p2, err2 := secret.Parse(s); p2 != p || err2 != err {
			t.Fatalf("Parse not deterministic: got (%+v, %v) then (%+v, %v)", p, err, p2, err2)
		}
		if err != nil {
			if p != (secret.Parsed{}) {
				t.Fatalf("Parse failed with %v but returned %+v, want zero value", err, p)
			}
			if got := secret.Redact(s); got != "[redacted]" {
				t.Fatalf("Redact of unparseable input: got %q, want %q", got, "[redacted]")
			}
			return
		}
		if !strings.HasPrefix(s, p.Kind.Prefix()+p.UID) {
			t.Fatalf("got prefix+UID %q, want a prefix of the input", p.Kind.Prefix()+p.UID)
		}
		switch {
		case p.Format == secret.Current:
			n := 55
			if p.Tagged {
				n = 54
			}
			if len(s) != n {
				t.Fatalf("len of current-format token (tagged %v): got %d, want %d", p.Tagged, len(s), n)
			}
			if got, want := s[n-6:], wantChecksum(s[:n-6]); got != want {
				t.Fatalf("checksum: got %q, want %q", got, want)
			}
			if len(p.UID) != 10 {
				t.Fatalf("len(UID): got %d, want 10", len(p.UID))
			}
		case p.Kind == secret.LegacyKey:
			if len(s) != 40 || len(p.UID) != 8 {
				t.Fatalf("legacy key: got len %d, UID len %d, want 40 and 8", len(s), len(p.UID))
			}
		default:
			if strings.Count(s, "_") != 2 {
				t.Fatalf("old-format token: got %d underscores, want 2", strings.Count(s, "_"))
			}
		}
		if got, want := secret.Redact(s), p.Kind.Prefix()+p.UID+"…"; got != want {
			t.Fatalf("Redact: got %q, want %q", got, want)
		}
	})
}
