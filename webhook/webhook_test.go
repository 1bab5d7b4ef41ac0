package webhook_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"tokend/webhook"
)

// verify is an independent Standard Webhooks check: HMAC-SHA256 of "id.timestamp.body" under
// the base64 key after "whsec_", compared with each "v1," signature of the header.
func verify(secret, id, stamp, sigHeader string, body []byte) bool {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + stamp + "."))
	m.Write(body)
	want := m.Sum(nil)
	for _, s := range strings.Fields(sigHeader) {
		v, sig, ok := strings.Cut(s, ",")
		if !ok || v != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(sig)
		if err == nil && hmac.Equal(got, want) {
			return true
		}
	}
	return false
}

func TestSign(t *testing.T) {
	t.Parallel()
	// The specification's own example secret and message.
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	body := []byte(`{"test": 2432232314}`)
	sig, err := webhook.Sign([]string{secret}, "msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), body)
	if err != nil {
		t.Fatal(err)
	}
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; sig != want {
		t.Errorf("got %q, want %q", sig, want)
	}
	other, err := webhook.NewSecret(strings.NewReader(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	both, err := webhook.Sign([]string{other, secret}, "msg_1", time.Unix(1700000000, 0), body)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{secret, other} {
		if !verify(s, "msg_1", "1700000000", both, body) {
			t.Errorf("signature %q does not verify with %s", both, s[:10])
		}
	}
	if verify(secret, "msg_2", "1700000000", both, body) {
		t.Error("a signature verifies for another message id")
	}
}

func TestParseSecret(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, secret string
		ok           bool
	}{
		{"32 bytes", "whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 32)), true},
		{"24 bytes", "whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 24)), true},
		{"too short", "whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 16)), false},
		{"too long", "whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 65)), false},
		{"no prefix", base64.StdEncoding.EncodeToString(make([]byte, 32)), false},
		{"not base64", "whsec_!!!!", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := webhook.ParseSecret(tt.secret)
			if (err == nil) != tt.ok {
				t.Errorf("got err %v, want ok %v", err, tt.ok)
			}
		})
	}
}

func TestNonPublic(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr string
		want string
	}{
		{"127.0.0.1", "loopback"},
		{"::1", "loopback"},
		{"::ffff:127.0.0.1", "loopback"},
		{"10.1.2.3", "private"},
		{"::ffff:10.1.2.3", "private"},
		{"172.16.0.1", "private"},
		{"192.168.1.1", "private"},
		{"fd00::1", "private"},
		{"169.254.169.254", "link-local"},
		{"fe80::1", "link-local"},
		{"0.0.0.0", "unspecified"},
		{"::", "unspecified"},
		{"224.0.0.1", "multicast"},
		{"ff02::1", "multicast"},
		{"255.255.255.255", "broadcast"},
		{"100.64.0.1", "shared (carrier-grade NAT)"},
		{"64:ff9b::7f00:1", "loopback"},
		{"2002:a00:1::", "private"},
		{"93.184.216.34", ""},
		{"2606:4700::1111", ""},
		{"64:ff9b::5db8:d822", ""},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			if got := webhook.NonPublic(netip.MustParseAddr(tt.addr)); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestClient sends to a loopback receiver: refused by default, at the dial (after any name
// resolution); delivered and verifiable when private addresses are allowed; a redirect is
// not followed.
func TestClient(t *testing.T) {
	t.Parallel()
	secret, err := webhook.NewSecret(strings.NewReader(strings.Repeat("s", 32)))
	if err != nil {
		t.Fatal(err)
	}
	var hits, redirected int
	var verified bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/moved" {
			redirected++
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
			return
		}
		hits++
		var buf bytes.Buffer
		buf.ReadFrom(r.Body)
		verified = verify(secret, r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"),
			r.Header.Get("webhook-signature"), buf.Bytes())
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	body := []byte(`{"type":"token.created"}`)
	now := time.Unix(1700000000, 0)

	refused := webhook.NewClient(webhook.Options{Timeout: 5 * time.Second})
	for _, u := range []string{srv.URL, strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)} {
		a := refused.Send(t.Context(), u+"/hook", "msg_1", []string{secret}, now, body)
		if a.Delivered() || !strings.Contains(a.Error, "loopback") || a.StatusCode != 0 {
			t.Errorf("%s: got %+v, want a refusal naming the loopback address", u, a)
		}
		if strings.Contains(a.Error, "/hook") {
			t.Errorf("error %q repeats the URL", a.Error)
		}
	}
	if hits != 0 {
		t.Fatalf("got %d requests through the guard, want 0", hits)
	}

	c := webhook.NewClient(webhook.Options{AllowPrivate: true, Timeout: 5 * time.Second})
	a := c.Send(t.Context(), srv.URL+"/hook", "msg_1", []string{secret}, now, body)
	if !a.Delivered() || a.StatusCode != http.StatusNoContent || hits != 1 || !verified {
		t.Errorf("got %+v (hits %d, verified %v), want delivered once with a valid signature", a, hits, verified)
	}
	a = c.Send(t.Context(), srv.URL+"/moved", "msg_2", []string{secret}, now, body)
	if a.Delivered() || a.StatusCode != http.StatusFound || redirected != 1 || hits != 1 {
		t.Errorf("got %+v (hits %d), want the 302 reported and not followed", a, hits)
	}
}
