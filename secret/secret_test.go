package secret_test

import (
	"bytes"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"hash/crc32"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"tokend/secret"
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// counterReader yields n bytes counting up from start, wrapping at 256, so
// golden tokens can be derived by hand: byte b maps to base62[b%62] and
// bytes >= 248 are skipped.
func counterReader(start byte, n int) io.Reader {
	b := make([]byte, n)
	for i := range b {
		b[i] = start + byte(i)
	}
	return bytes.NewReader(b)
}

// wantChecksum is an independent oracle for the checksum, built on the
// stdlib CRC rather than the package's hand-written loop.
func wantChecksum(s string) string {
	v := crc32.ChecksumIEEE([]byte(s))
	out := make([]byte, 6)
	for i := len(out) - 1; i >= 0; i-- {
		out[i] = base62[v%62]
		v /= 62
	}
	return string(out)
}

func generate(tb testing.TB, k secret.Kind) (token, uid string) {
	tb.Helper()
	token, uid, err := secret.Generate(rand.Reader, k, nil)
	if err != nil {
		tb.Fatalf("Generate(%v): got error %v, want nil", k, err)
	}
	return token, uid
}

// checkNoLeak fails if an error message repeats a secret input.
func checkNoLeak(tb testing.TB, err error, secrets ...string) {
	tb.Helper()
	if err == nil {
		return
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(err.Error(), s) {
			tb.Errorf("error message %q contains the secret input", err.Error())
		}
	}
}

func TestKind(t *testing.T) {
	tests := []struct {
		kind       secret.Kind
		wantString string
		wantPrefix string
	}{
		{secret.PAT, "pat", "dbtu_"},
		{secret.Service, "service", "dbtc_"},
		{secret.LegacyKey, "legacy_key", ""},
		{secret.SCIM, "scim", "dbts_"},
		{secret.Kind(0), "kind(0)", ""},
	}
	for _, tt := range tests {
		t.Run(tt.wantString, func(t *testing.T) {
			if got := tt.kind.String(); got != tt.wantString {
				t.Errorf("String(): got %q, want %q", got, tt.wantString)
			}
			if got := tt.kind.Prefix(); got != tt.wantPrefix {
				t.Errorf("Prefix(): got %q, want %q", got, tt.wantPrefix)
			}
		})
	}
}

func TestGenerateParseRoundTrip(t *testing.T) {
	tests := []struct {
		name       string
		kind       secret.Kind
		wantLen    int
		wantFormat secret.Format
	}{
		{"pat", secret.PAT, 5 + 50, secret.Current},
		{"service", secret.Service, 5 + 50, secret.Current},
		{"scim", secret.SCIM, 5 + 50, secret.Current},
		{"legacy key", secret.LegacyKey, 40, secret.OldFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token, uid := generate(t, tt.kind)
			if len(token) != tt.wantLen {
				t.Errorf("len(token): got %d, want %d", len(token), tt.wantLen)
			}
			if !strings.HasPrefix(token, tt.kind.Prefix()) {
				t.Errorf("token prefix: got %q, want %q", token[:5], tt.kind.Prefix())
			}
			p, err := secret.Parse(token)
			if err != nil {
				t.Fatalf("Parse: got error %v, want nil", err)
			}
			want := secret.Parsed{Kind: tt.kind, Format: tt.wantFormat, UID: uid}
			if p != want {
				t.Errorf("Parse: got %+v, want %+v", p, want)
			}
		})
	}
}

func TestGenerateGolden(t *testing.T) {
	tests := []struct {
		name      string
		kind      secret.Kind
		wantToken string
		wantUID   string
	}{
		// Bytes 240..247 give "stuvwxyz", 248..255 are rejected, then 0..35
		// give "0".."Z"; the checksums were computed with Python's zlib.crc32.
		{"pat", secret.PAT, "dbtu_stuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ1Bk1Vu", "stuvwxyz01"},
		{"service", secret.Service, "dbtc_stuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ0BpU93", "stuvwxyz01"},
		{"legacy key", secret.LegacyKey, "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff00010203", "f0f1f2f3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token, uid, err := secret.Generate(counterReader(240, 256), tt.kind, nil)
			if err != nil {
				t.Fatalf("Generate: got error %v, want nil", err)
			}
			if token != tt.wantToken {
				t.Errorf("token: got %q, want %q", token, tt.wantToken)
			}
			if uid != tt.wantUID {
				t.Errorf("uid: got %q, want %q", uid, tt.wantUID)
			}
		})
	}
}

var errBroken = errors.New("broken reader")

func TestGenerateErrors(t *testing.T) {
	tests := []struct {
		name    string
		reader  io.Reader
		kind    secret.Kind
		wantErr error
	}{
		{"zero kind", rand.Reader, secret.Kind(0), secret.ErrKind},
		{"unknown kind", rand.Reader, secret.Kind(99), secret.ErrKind},
		{"empty reader pat", strings.NewReader(""), secret.PAT, io.EOF},
		{"short reader service", counterReader(0, 20), secret.Service, io.ErrUnexpectedEOF},
		{"only rejected bytes", io.MultiReader(bytes.NewReader(bytes.Repeat([]byte{0xff}, 200)), iotest.ErrReader(errBroken)), secret.PAT, errBroken},
		{"failing reader legacy key", iotest.ErrReader(errBroken), secret.LegacyKey, errBroken},
		{"short reader legacy key", counterReader(0, 19), secret.LegacyKey, io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token, uid, err := secret.Generate(tt.reader, tt.kind, nil)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("error: got %v, want %v", err, tt.wantErr)
			}
			if token != "" || uid != "" {
				t.Errorf("got token %q, uid %q, want both empty", token, uid)
			}
		})
	}
}

func TestParseRejectsSubstitutions(t *testing.T) {
	for _, kind := range []secret.Kind{secret.PAT, secret.Service} {
		t.Run(kind.String(), func(t *testing.T) {
			token, _ := generate(t, kind)
			substitutionsRefused(t, token)
		})
	}
}

// substitutionsRefused fails t unless Parse refuses every copy of token with one byte
// replaced, as a bad checksum or as malformed. '_' is left out of the replacements on
// purpose: it can turn a token into a well-formed old-format token, which has no checksum to
// catch it.
func substitutionsRefused(t *testing.T, token string) {
	t.Helper()
	subs := base62 + "-+/= .é\x00"
	for i := range len(token) {
		for j := range len(subs) {
			if subs[j] == token[i] {
				continue
			}
			mutated := token[:i] + subs[j:j+1] + token[i+1:]
			_, err := secret.Parse(mutated)
			if !errors.Is(err, secret.ErrChecksum) && !errors.Is(err, secret.ErrMalformed) {
				t.Fatalf("Parse with byte %d replaced by %q: got error %v, want ErrChecksum or ErrMalformed", i, subs[j], err)
			}
		}
	}
}

func TestParseMalformed(t *testing.T) {
	valid := "dbtu_stuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ1Bk1Vu"
	body := valid[5:]
	hex := "0123456789abcdef0123456789abcdef01234567"
	tests := []struct {
		name    string
		input   string
		wantErr error
	}{
		{"empty", "", secret.ErrMalformed},
		{"pat prefix only", "dbtu_", secret.ErrMalformed},
		{"service prefix only", "dbtc_", secret.ErrMalformed},
		{"scim prefix only", "dbts_", secret.ErrMalformed},
		{"scim in the old shape", "dbts_Ab12Cd34_Zx9Yw8Vu7Ts6Rq5Po4", secret.ErrMalformed},
		{"short prefix", "dbt", secret.ErrMalformed},
		{"wrong prefix", "dbtx_" + body, secret.ErrMalformed},
		{"uppercase prefix", "DBTU_" + body, secret.ErrMalformed},
		{"dash separator", "dbtu-" + body, secret.ErrMalformed},
		{"no prefix", body, secret.ErrMalformed},
		{"48 chars", valid[:len(valid)-2], secret.ErrMalformed},
		// The tagged shape's length: the checksum refuses it.
		{"49 chars", valid[:len(valid)-1], secret.ErrChecksum},
		{"51 chars", valid + "0", secret.ErrMalformed},
		{"dash in body", valid[:20] + "-" + valid[21:], secret.ErrMalformed},
		{"unicode in body", valid[:20] + "é" + valid[22:], secret.ErrMalformed},
		{"fullwidth digit", valid[:20] + "１" + valid[23:], secret.ErrMalformed},
		{"leading space", " " + valid, secret.ErrMalformed},
		{"trailing newline", valid + "\n", secret.ErrMalformed},
		{"space in body", valid[:20] + " " + valid[21:], secret.ErrMalformed},
		{"nul in body", valid[:20] + "\x00" + valid[21:], secret.ErrMalformed},
		{"bad checksum", valid[:len(valid)-1] + "v", secret.ErrChecksum},
		{"prefix swapped", "dbtc_" + body, secret.ErrChecksum},
		{"legacy uppercase hex", strings.ToUpper(hex), secret.ErrMalformed},
		{"legacy mixed case hex", "A" + hex[1:], secret.ErrMalformed},
		{"legacy 39 hex", hex[:39], secret.ErrMalformed},
		{"legacy 41 hex", hex + "0", secret.ErrMalformed},
		{"legacy non hex", hex[:39] + "g", secret.ErrMalformed},
		{"legacy trailing space", hex[:39] + " ", secret.ErrMalformed},
		{"old uid too short", "dbtu_abc_" + strings.Repeat("s", 16), secret.ErrMalformed},
		{"old uid too long", "dbtu_" + strings.Repeat("u", 41) + "_" + strings.Repeat("s", 16), secret.ErrMalformed},
		{"old empty uid", "dbtu__" + strings.Repeat("s", 16), secret.ErrMalformed},
		{"old secret too short", "dbtc_abcd_" + strings.Repeat("s", 15), secret.ErrMalformed},
		{"old secret too long", "dbtc_abcd_" + strings.Repeat("s", 129), secret.ErrMalformed},
		{"old empty secret", "dbtc_abcd_", secret.ErrMalformed},
		{"old second underscore", "dbtc_abcd_" + strings.Repeat("s", 16) + "_x", secret.ErrMalformed},
		{"old dash in secret", "dbtc_abcd_" + strings.Repeat("s", 16) + "-", secret.ErrMalformed},
		{"old dash in uid", "dbtc_ab-cd_" + strings.Repeat("s", 16), secret.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := secret.Parse(tt.input)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("error: got %v, want %v", err, tt.wantErr)
			}
			if p != (secret.Parsed{}) {
				t.Errorf("Parsed: got %+v, want zero value", p)
			}
			checkNoLeak(t, err, tt.input)
		})
	}
}

func TestParseValidOldShapes(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  secret.Parsed
	}{
		{"pat min", "dbtu_abcd_" + strings.Repeat("s", 16),
			secret.Parsed{Kind: secret.PAT, Format: secret.OldFormat, UID: "abcd"}},
		{"service max", "dbtc_" + strings.Repeat("U", 40) + "_" + strings.Repeat("9", 128),
			secret.Parsed{Kind: secret.Service, Format: secret.OldFormat, UID: strings.Repeat("U", 40)}},
		{"service mixed", "dbtc_Ab12Cd34_Zx9Yw8Vu7Ts6Rq5Po4",
			secret.Parsed{Kind: secret.Service, Format: secret.OldFormat, UID: "Ab12Cd34"}},
		{"legacy key", "0123456789abcdef0123456789abcdef01234567",
			secret.Parsed{Kind: secret.LegacyKey, Format: secret.OldFormat, UID: "01234567"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := secret.Parse(tt.input)
			if err != nil {
				t.Fatalf("Parse: got error %v, want nil", err)
			}
			if got != tt.want {
				t.Errorf("Parse: got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestHotPathDoesNotAllocate(t *testing.T) {
	token, _ := generate(t, secret.PAT)
	tests := []struct {
		name string
		fn   func()
	}{
		{"Parse", func() { _, _ = secret.Parse(token) }},
		{"Hash", func() { _ = secret.Hash(token) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := testing.AllocsPerRun(100, tt.fn); got != 0 {
				t.Errorf("allocs per call: got %v, want 0", got)
			}
		})
	}
}

func TestGenerateStatistics(t *testing.T) {
	const n = 2000
	seen := make(map[string]bool, n)
	var counts [256]int
	for range n {
		token, uid := generate(t, secret.PAT)
		if seen[uid] {
			t.Fatalf("uid %q generated twice", uid)
		}
		seen[uid] = true
		for _, c := range []byte(token[5 : 5+44]) {
			counts[c]++
		}
	}
	// Each character is expected ~1419 times with a standard deviation of
	// ~37; a 30% band only catches gross bias, never chance.
	want := n * 44 / 62
	for _, c := range []byte(base62) {
		if got := counts[c]; got < want*7/10 || got > want*13/10 {
			t.Errorf("count of %q: got %d, want about %d", c, got, want)
		}
	}
}

func TestHash(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  string
	}{
		{"empty", "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"abc", "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		// Longer than Hash's stack buffer, to cover the fallback.
		{"300 bytes", strings.Repeat("a", 300), "9835fa6bf4e20a9b9ea812506302e98982721a6cf8d2cae67af57129bf21ae90"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := secret.HashHex(tt.input); got != tt.want {
				t.Errorf("HashHex: got %s, want %s", got, tt.want)
			}
			if got, want := secret.Hash(tt.input), sha256.Sum256([]byte(tt.input)); got != want {
				t.Errorf("Hash: got %x, want %x", got, want)
			}
		})
	}
}

func TestEqual(t *testing.T) {
	tests := []struct {
		name string
		a, b []byte
		want bool
	}{
		{"equal", []byte("abc"), []byte("abc"), true},
		{"both empty", nil, []byte{}, true},
		{"differ", []byte("abc"), []byte("abd"), false},
		{"prefix", []byte("ab"), []byte("abc"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := secret.Equal(tt.a, tt.b); got != tt.want {
				t.Errorf("Equal(%q, %q): got %v, want %v", tt.a, tt.b, got, tt.want)
			}
		})
	}
}

func TestSlowHashRoundTrip(t *testing.T) {
	legacy, _ := generate(t, secret.LegacyKey)
	tests := []struct {
		name  string
		token string
	}{
		{"old format", "dbtu_abcd_" + strings.Repeat("s", 16)},
		{"legacy key", legacy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			encoded, err := secret.SlowHash(rand.Reader, tt.token, 1000)
			if err != nil {
				t.Fatalf("SlowHash: got error %v, want nil", err)
			}
			if !strings.HasPrefix(encoded, "pbkdf2_sha256$1000$") {
				t.Errorf("encoding: got %q, want prefix %q", encoded, "pbkdf2_sha256$1000$")
			}
			if strings.Contains(encoded, tt.token) {
				t.Errorf("encoding %q contains the token", encoded)
			}
			for _, v := range []struct {
				token string
				want  bool
			}{{tt.token, true}, {tt.token + "x", false}, {tt.token[1:], false}} {
				ok, err := secret.VerifySlow(v.token, encoded)
				if err != nil || ok != v.want {
					t.Errorf("VerifySlow: got (%v, %v), want (%v, nil)", ok, err, v.want)
				}
			}
			again, err := secret.SlowHash(rand.Reader, tt.token, 1000)
			if err != nil || again == encoded {
				t.Errorf("second SlowHash: got (%q, %v), want a different salt", again, err)
			}
		})
	}
}

func TestSlowHashKnownVector(t *testing.T) {
	const token = "dbtc_Ab12Cd34_Zx9Yw8Vu7Ts6Rq5Po4"
	const salt = "0123456789ABCDEFGHIJKL" // bytes 0..21 map to base62[0..21]
	key, err := pbkdf2.Key(sha256.New, token, []byte(salt), 1000, 32)
	if err != nil {
		t.Fatal(err)
	}
	want := "pbkdf2_sha256$1000$" + salt + "$" + base64.StdEncoding.EncodeToString(key)

	got, err := secret.SlowHash(counterReader(0, 22), token, 1000)
	if err != nil {
		t.Fatalf("SlowHash: got error %v, want nil", err)
	}
	if got != want {
		t.Errorf("SlowHash: got %q, want %q", got, want)
	}
}

func TestVerifySlowDjangoVector(t *testing.T) {
	// From Django 4.2's tests/auth_tests/test_hashers.py (test_pbkdf2).
	const encoded = "pbkdf2_sha256$600000$seasalt$OAXyhAQ/4ZDA9V5RMExt3C1OwQdUpLZ99vm1McFlLRA="
	tests := []struct {
		token string
		want  bool
	}{
		{"lètmein", true},
		{"lètmeinz", false},
	}
	for _, tt := range tests {
		t.Run(tt.token, func(t *testing.T) {
			got, err := secret.VerifySlow(tt.token, encoded)
			if err != nil || got != tt.want {
				t.Errorf("VerifySlow: got (%v, %v), want (%v, nil)", got, err, tt.want)
			}
		})
	}
}

func TestVerifySlowBadHash(t *testing.T) {
	const token = "dbtu_abcd_ssssssssssssssss"
	key := base64.StdEncoding.EncodeToString(make([]byte, 32))
	tests := []struct {
		name    string
		encoded string
	}{
		{"empty", ""},
		{"other algorithm", "pbkdf2_sha1$1000$salt$" + key},
		{"argon2", "argon2$argon2id$v=19$m=102400,t=2,p=8$c2FsdA$aGFzaA"},
		{"three fields", "pbkdf2_sha256$1000$" + key},
		{"five fields", "pbkdf2_sha256$1000$salt$" + key + "$x"},
		{"zero iterations", "pbkdf2_sha256$0$salt$" + key},
		{"negative iterations", "pbkdf2_sha256$-1$salt$" + key},
		{"signed iterations", "pbkdf2_sha256$+1000$salt$" + key},
		{"too many iterations", "pbkdf2_sha256$10000001$salt$" + key},
		{"huge iterations", "pbkdf2_sha256$99999999999999999999$salt$" + key},
		{"empty iterations", "pbkdf2_sha256$$salt$" + key},
		{"spaced iterations", "pbkdf2_sha256$ 1000$salt$" + key},
		{"empty salt", "pbkdf2_sha256$1000$$" + key},
		{"bad base64", "pbkdf2_sha256$1000$salt$!!!!"},
		{"unpadded base64", "pbkdf2_sha256$1000$salt$" + strings.TrimRight(key, "=")},
		{"short key", "pbkdf2_sha256$1000$salt$" + base64.StdEncoding.EncodeToString(make([]byte, 16))},
		{"the token itself", token},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := secret.VerifySlow(token, tt.encoded)
			if ok || !errors.Is(err, secret.ErrBadHash) {
				t.Errorf("VerifySlow: got (%v, %v), want (false, ErrBadHash)", ok, err)
			}
			checkNoLeak(t, err, token, tt.encoded)
		})
	}
}

func TestSlowHashErrors(t *testing.T) {
	const token = "dbtu_abcd_ssssssssssssssss"
	tests := []struct {
		name       string
		reader     io.Reader
		iterations int
		wantErr    error
	}{
		{"zero iterations", rand.Reader, 0, secret.ErrBadHash},
		{"negative iterations", rand.Reader, -1, secret.ErrBadHash},
		{"too many iterations", rand.Reader, 10_000_001, secret.ErrBadHash},
		{"empty reader", strings.NewReader(""), 1000, io.EOF},
		{"short reader", counterReader(0, 10), 1000, io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := secret.SlowHash(tt.reader, token, tt.iterations)
			if got != "" || !errors.Is(err, tt.wantErr) {
				t.Errorf("SlowHash: got (%q, %v), want (\"\", %v)", got, err, tt.wantErr)
			}
			checkNoLeak(t, err, token)
		})
	}
}

func TestRedact(t *testing.T) {
	pat, patUID := generate(t, secret.PAT)
	legacy, _ := generate(t, secret.LegacyKey)
	tests := []struct {
		name       string
		input      string
		want       string
		secretPart string
	}{
		{"pat", pat, "dbtu_" + patUID + "…", pat[15:49]},
		{"old format", "dbtc_Ab12Cd34_Zx9Yw8Vu7Ts6Rq5Po4", "dbtc_Ab12Cd34…", "Zx9Yw8Vu7Ts6Rq5Po4"},
		{"legacy key", legacy, legacy[:8] + "…", legacy[8:]},
		{"bad checksum", pat[:len(pat)-6] + "000000", "[redacted]", pat[15:49]},
		{"garbage", "hunter2-not-a-token", "[redacted]", "hunter2"},
		{"empty", "", "[redacted]", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := secret.Redact(tt.input)
			if got != tt.want {
				t.Errorf("Redact: got %q, want %q", got, tt.want)
			}
			if tt.secretPart != "" && strings.Contains(got, tt.secretPart) {
				t.Errorf("Redact: got %q, which contains the secret part", got)
			}
		})
	}
}

func BenchmarkParse(b *testing.B) {
	token, _ := generate(b, secret.PAT)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := secret.Parse(token); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHash(b *testing.B) {
	token, _ := generate(b, secret.PAT)
	b.ReportAllocs()
	for b.Loop() {
		secret.Hash(token)
	}
}

func BenchmarkSlowHashVerify(b *testing.B) {
	token, _ := generate(b, secret.LegacyKey)
	encoded, err := secret.SlowHash(rand.Reader, token, secret.DefaultIterations)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := secret.VerifySlow(token, encoded); !ok || err != nil {
			b.Fatalf("VerifySlow: got (%v, %v), want (true, nil)", ok, err)
		}
	}
}
