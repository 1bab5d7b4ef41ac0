package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testCA is a certificate authority made in the test; clients trust it and nothing else.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newTestCA(t testing.TB) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "tokend test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

// issue makes a server certificate for localhost and 127.0.0.1 with the given serial number, and
// returns it and its key in PEM.
func (ca *testCA) issue(t testing.TB, serial int64) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(12 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
}

// writeAtomic replaces path as a renewal tool would: a new file renamed over the old one.
func writeAtomic(t testing.TB, path string, b []byte) {
	t.Helper()
	tmp := path + ".new"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// TestCertFilesReload walks a certificate through its life on disk with a clock the test moves:
// a change is seen only once the check interval has passed, and a pair that does not load
// leaves the previous certificate in service.
func TestCertFilesReload(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t)
	dir := t.TempDir()
	certPath, keyPath := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	c1, k1 := ca.issue(t, 1)
	c2, k2 := ca.issue(t, 2)
	c3, k3 := ca.issue(t, 3)
	writeAtomic(t, certPath, c1)
	writeAtomic(t, keyPath, k1)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var logs bytes.Buffer
	cf, err := loadCertFiles(certPath, keyPath, 5*time.Second, func() time.Time { return now },
		slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name        string
		cert, key   []byte // written before the step; nil leaves the file alone
		removeKey   bool
		advance     time.Duration
		wantSerial  int64
		wantLogHas  string
		wantLogLack string
	}{
		{name: "first pair", wantSerial: 1},
		{name: "renewed, inside the interval: not yet", cert: c2, key: k2, advance: 4 * time.Second, wantSerial: 1},
		{name: "renewed, interval passed: served", advance: 1 * time.Second, wantSerial: 2, wantLogHas: "loaded renewed TLS certificate"},
		{name: "half-written renewal (new cert, old key): previous kept", cert: c3, advance: 5 * time.Second, wantSerial: 2, wantLogHas: "do not load"},
		{name: "key removed: previous kept", removeKey: true, advance: 5 * time.Second, wantSerial: 2, wantLogHas: "--tls-key"},
		{name: "key back: served", key: k3, advance: 5 * time.Second, wantSerial: 3, wantLogHas: "loaded renewed"},
		{name: "garbage cert: previous kept", cert: []byte("not a certificate"), advance: 5 * time.Second, wantSerial: 3, wantLogHas: "do not load"},
		{name: "same garbage again: not logged twice", advance: 5 * time.Second, wantSerial: 3, wantLogLack: "do not load"},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if s.cert != nil {
				writeAtomic(t, certPath, s.cert)
			}
			if s.key != nil {
				writeAtomic(t, keyPath, s.key)
			}
			if s.removeKey {
				if err := os.Remove(keyPath); err != nil {
					t.Fatal(err)
				}
			}
			now = now.Add(s.advance)
			logs.Reset()
			got, err := cf.GetCertificate(&tls.ClientHelloInfo{ServerName: "localhost"})
			if err != nil {
				t.Fatal(err)
			}
			if got.Leaf.SerialNumber.Int64() != s.wantSerial {
				t.Errorf("got certificate serial %d, want %d", got.Leaf.SerialNumber.Int64(), s.wantSerial)
			}
			if s.wantLogHas != "" && !strings.Contains(logs.String(), s.wantLogHas) {
				t.Errorf("got log %q, want it to contain %q", logs.String(), s.wantLogHas)
			}
			if s.wantLogLack != "" && strings.Contains(logs.String(), s.wantLogLack) {
				t.Errorf("got log %q, want no %q", logs.String(), s.wantLogLack)
			}
		})
	}
}

// TestServeTLSFiles drives Go's HTTPS client, trusting only a CA made here, through serve with
// --tls-cert/--tls-key: HTTP/2 is negotiated, TLS 1.1 is refused, and a renewed certificate
// written over the files is served without a restart.
func TestServeTLSFiles(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t)
	for name, sf := range storageConfigs(t) {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			certPath, keyPath := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
			c1, k1 := ca.issue(t, 101)
			writeAtomic(t, certPath, c1)
			writeAtomic(t, keyPath, k1)
			r := startServe(t, serveConfig{storage: sf, tls: tlsFlags{
				certFile: certPath, keyFile: keyPath, reloadEvery: 10 * time.Millisecond,
			}})
			_, port, _ := net.SplitHostPort(r.addrs.api.String())
			creds, _ := os.ReadFile(filepath.Join(sf.dataDir, "initial-credentials"))
			if want := "URL:        https://localhost:" + port + "/"; !strings.Contains(string(creds), want) {
				t.Errorf("bootstrap wrote %q, want %q", creds, want)
			}

			// A fresh connection per request, so each one sees the certificate served now.
			client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
				TLSClientConfig:   &tls.Config{RootCAs: ca.pool},
				ForceAttemptHTTP2: true,
				DisableKeepAlives: true,
			}}
			fetch := func(t *testing.T) *http.Response {
				t.Helper()
				resp, err := client.Get("https://localhost:" + port + "/healthz")
				if err != nil {
					t.Fatalf("GET /healthz over TLS: %v", err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				return resp
			}
			resp := fetch(t)
			if resp.StatusCode != 200 || resp.ProtoMajor != 2 || resp.TLS.NegotiatedProtocol != "h2" {
				t.Errorf("got %d over %s (ALPN %q), want 200 over HTTP/2", resp.StatusCode, resp.Proto, resp.TLS.NegotiatedProtocol)
			}
			if got := resp.TLS.PeerCertificates[0].SerialNumber.Int64(); got != 101 {
				t.Errorf("got certificate serial %d, want 101", got)
			}

			versions := []struct {
				name     string
				min, max uint16
				wantOK   bool
			}{
				{"TLS 1.1", tls.VersionTLS10, tls.VersionTLS11, false},
				{"TLS 1.2", tls.VersionTLS12, tls.VersionTLS12, true},
				{"TLS 1.3", tls.VersionTLS13, tls.VersionTLS13, true},
			}
			for _, v := range versions {
				conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", r.addrs.api.String(),
					&tls.Config{RootCAs: ca.pool, ServerName: "localhost", MinVersion: v.min, MaxVersion: v.max})
				if err == nil {
					conn.Close()
				}
				if (err == nil) != v.wantOK {
					t.Errorf("%s handshake: got error %v, want success %v", v.name, err, v.wantOK)
				}
			}

			// Renewal: new files, same paths, no restart. The check runs on a handshake once the
			// interval has passed, so the loop is bounded by count, not by a speed expectation.
			c2, k2 := ca.issue(t, 102)
			writeAtomic(t, keyPath, k2)
			writeAtomic(t, certPath, c2)
			var serial int64
			for i := 0; i < 100 && serial != 102; i++ {
				time.Sleep(20 * time.Millisecond)
				serial = fetch(t).TLS.PeerCertificates[0].SerialNumber.Int64()
			}
			if serial != 102 {
				t.Fatalf("after renewal: got certificate serial %d, want 102", serial)
			}

			// A broken renewal keeps the renewed certificate in service.
			writeAtomic(t, certPath, []byte("-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n"))
			time.Sleep(50 * time.Millisecond)
			for range 3 {
				if got := fetch(t).TLS.PeerCertificates[0].SerialNumber.Int64(); got != 102 {
					t.Fatalf("after a broken renewal: got certificate serial %d, want 102", got)
				}
			}
			if err := r.shutdown(t); err != nil {
				t.Fatalf("serve returned %v, want nil", err)
			}
		})
	}
}

// TestServeTLSRefusesBadConfig: TLS settings that cannot be what the operator meant fail the
// start with a message naming the flags.
func TestServeTLSRefusesBadConfig(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t)
	dir := t.TempDir()
	certPath, keyPath := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	c1, k1 := ca.issue(t, 1)
	_, k2 := ca.issue(t, 2)
	writeAtomic(t, certPath, c1)
	writeAtomic(t, keyPath, k1)
	otherKey := filepath.Join(dir, "other-key.pem")
	writeAtomic(t, otherKey, k2)
	tests := []struct {
		name string
		tls  tlsFlags
		want string
	}{
		{"cert without key", tlsFlags{certFile: certPath}, "--tls-cert and --tls-key go together"},
		{"key without cert", tlsFlags{keyFile: keyPath}, "--tls-cert and --tls-key go together"},
		{"missing cert file", tlsFlags{certFile: filepath.Join(dir, "nope.pem"), keyFile: keyPath}, "--tls-cert"},
		{"key of another cert", tlsFlags{certFile: certPath, keyFile: otherKey}, "private key does not match public key"},
		{"files and ACME", tlsFlags{certFile: certPath, keyFile: keyPath, acmeDomains: []string{"tokend.example.com"}}, "alternatives"},
		{"ACME e-mail without a domain", tlsFlags{acmeEmail: "ops@example.com"}, "need --acme-domain"},
		{"ACME domain with a port", tlsFlags{acmeDomains: []string{"tokend.example.com:443"}}, "not a public host name"},
		{"ACME domain an address", tlsFlags{acmeDomains: []string{"203.0.113.7"}}, "not a public host name"},
		{"ACME roots missing", tlsFlags{acmeDomains: []string{"tokend.example.com"}, acmeCARoots: filepath.Join(dir, "nope.pem")}, "--acme-ca-roots"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := serve(t.Context(), serveConfig{storage: storageFlags{dataDir: t.TempDir()}, addr: "127.0.0.1:0", tls: tt.tls})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// TestServerErrorLog: failed handshakes from strangers stay out of an info-level log; one that
// ACME caused, and net/http's other complaints, are warnings.
func TestServerErrorLog(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, line string
		level      slog.Level
		want       string // the level logged; empty for nothing
	}{
		{"handshake at info: dropped", "http: TLS handshake error from 203.0.113.9:5000: EOF", slog.LevelInfo, ""},
		{"handshake at debug: debug", "http: TLS handshake error from 203.0.113.9:5000: EOF", slog.LevelDebug, "level=DEBUG"},
		{"handshake ACME failed: warning", "http: TLS handshake error from 203.0.113.9:5000: acme/autocert: missing certificate", slog.LevelInfo, "level=WARN"},
		{"other server error: warning", "http: Accept error: too many open files", slog.LevelInfo, "level=WARN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			serverErrorLog(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: tt.level}))).Print(tt.line)
			got := buf.String()
			if tt.want == "" && got != "" || tt.want != "" && !strings.Contains(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestCertFilesWarnExpiry: a certificate from files that ends soon, or has ended, is warned about
// at start and then once a day, not at every check.
func TestCertFilesWarnExpiry(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t)
	dir := t.TempDir()
	certPath, keyPath := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	c, k := ca.issue(t, 1) // ends 12 hours from now
	writeAtomic(t, certPath, c)
	writeAtomic(t, keyPath, k)
	now := time.Now()
	var logs bytes.Buffer
	cf, err := loadCertFiles(certPath, keyPath, 5*time.Second, func() time.Time { return now },
		slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name    string
		advance time.Duration
		want    string // in the log since the last step; empty for nothing
	}{
		{"at start: ends soon", 0, "expires soon"},
		{"a minute later: not again", time.Minute, ""},
		{"past its end, same day: not again", 13 * time.Hour, ""},
		{"a day after the first warning: expired", 11 * time.Hour, "has expired"},
	}
	for i, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if i > 0 {
				logs.Reset()
				now = now.Add(s.advance)
				if _, err := cf.GetCertificate(&tls.ClientHelloInfo{}); err != nil {
					t.Fatal(err)
				}
			}
			got := logs.String()
			if s.want == "" && got != "" || s.want != "" && !strings.Contains(got, s.want) {
				t.Errorf("got log %q, want %q", got, s.want)
			}
		})
	}
}
