package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/letsencrypt/pebble/v2/ca"
	"github.com/letsencrypt/pebble/v2/db"
	"github.com/letsencrypt/pebble/v2/va"
	"github.com/letsencrypt/pebble/v2/wfe"
	"github.com/miekg/dns"
)

// startDNS answers A queries for names with 127.0.0.1 over TCP on loopback (Pebble's resolver
// speaks TCP); every other name does not exist. It lets Pebble's validation authority, and the
// test's client, find tokend by its public name without touching the machine's resolver.
func startDNS(t *testing.T, names ...string) string {
	t.Helper()
	known := map[string]bool{}
	for _, n := range names {
		known[dns.Fqdn(strings.ToLower(n))] = true
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{Listener: ln, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		for _, qq := range q.Question {
			if !known[strings.ToLower(qq.Name)] {
				m.Rcode = dns.RcodeNameError
				continue
			}
			if qq.Qtype == dns.TypeA {
				m.Answer = append(m.Answer, &dns.A{
					Hdr: dns.RR_Header{Name: qq.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60},
					A:   net.IPv4(127, 0, 0, 1),
				})
			}
		}
		w.WriteMsg(m)
	})}
	go srv.ActivateAndServe()
	t.Cleanup(func() { srv.Shutdown() })
	return ln.Addr().String()
}

// pebbleServer is Let's Encrypt's test CA, run in process on loopback. Its directory is served
// over TLS with a certificate of httptest's, which tokend is told to trust (--acme-ca-roots);
// the certificates it issues chain to root, which the test's client trusts and nothing else.
type pebbleServer struct {
	https     *httptest.Server
	handler   atomic.Pointer[http.Handler]
	dirURL    string
	rootsFile string // httptest's certificate, for --acme-ca-roots
	root      *x509.Certificate
	logs      *syncBuffer
}

// startPebble serves the directory at once; the CA itself is built by configure, once the ports
// its validation authority must check are known.
func startPebble(t *testing.T) *pebbleServer {
	t.Helper()
	p := &pebbleServer{logs: &syncBuffer{}}
	p.https = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := p.handler.Load()
		if h == nil {
			http.Error(w, "pebble not configured yet", http.StatusServiceUnavailable)
			return
		}
		(*h).ServeHTTP(w, r)
	}))
	t.Cleanup(p.https.Close)
	p.dirURL = p.https.URL + wfe.DirectoryPath
	p.rootsFile = filepath.Join(t.TempDir(), "acme-directory-ca.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.https.Certificate().Raw})
	if err := os.WriteFile(p.rootsFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("pebble's log:\n%s", p.logs.String())
		}
	})
	return p
}

// configure builds Pebble's CA, validation authority and front end. The validation authority
// checks HTTP-01 on httpPort and TLS-ALPN-01 on tlsPort of whatever resolver says the name is.
func (p *pebbleServer) configure(t *testing.T, httpPort, tlsPort int, resolver string) {
	t.Helper()
	// No random sleeps before validation, no injected bad nonces, no reuse of a failed
	// authorization: the test wants the plain protocol, quickly.
	t.Setenv("PEBBLE_VA_NOSLEEP", "1")
	t.Setenv("PEBBLE_WFE_NONCEREJECT", "0")
	t.Setenv("PEBBLE_AUTHZREUSE", "0")
	logger := log.New(p.logs, "pebble ", log.Lmicroseconds)
	store := db.NewMemoryStore()
	authority := ca.New(logger, store, "", "ecdsa", 0, 1, map[string]ca.Profile{"default": {Description: "test"}})
	validator := va.New(logger, httpPort, tlsPort, false, resolver, store)
	front := wfe.New(logger, store, validator, authority, []string{"pebble.letsencrypt.org"}, false, false, 1, 1)
	h := front.Handler()
	p.handler.Store(&h)
	p.root = authority.GetRootCert(0).Cert
}

// closedPort is a loopback port nothing listens on: a challenge sent there fails at once.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

func portOf(a net.Addr) int { return a.(*net.TCPAddr).Port }

// TestServeACME obtains certificates from Pebble, with the challenge really validated: Pebble's
// validation authority resolves the names through a DNS answerer in the test and connects to
// tokend on loopback. One case leaves only TLS-ALPN-01 reachable (on the TLS listener), the other
// only HTTP-01 (on --acme-http-addr). A real HTTPS client trusting only Pebble's root then talks
// HTTP/2 to tokend by name; after a restart with Pebble gone, the certificate comes from the
// cache in the data directory. The store plays no part here (the ACME cache is files in the data
// directory whichever store is used), so this runs on SQLite only.
func TestServeACME(t *testing.T) {
	domains := []string{"tokend.test", "api.tokend.test"}
	tests := []struct {
		name      string
		viaHTTP01 bool
	}{
		{name: "TLS-ALPN-01 on the TLS listener"},
		{name: "HTTP-01 on --acme-http-addr", viaHTTP01: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// other.test resolves to tokend too, but is not one of its names.
			resolver := startDNS(t, append([]string{"other.test"}, domains...)...)
			pebble := startPebble(t)
			dataDir := t.TempDir()
			logs := &syncBuffer{}
			cfg := serveConfig{
				storage: storageFlags{dataDir: dataDir},
				log:     slog.New(slog.NewTextHandler(logs, nil)),
				tls: tlsFlags{
					acmeDomains: domains, acmeEmail: "ops@tokend.test",
					acmeDirectory: pebble.dirURL, acmeCARoots: pebble.rootsFile,
				},
			}
			if tt.viaHTTP01 {
				cfg.tls.acmeHTTPAddr = "127.0.0.1:0"
			}
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("tokend's log:\n%s", logs.String())
				}
			})
			r := startServe(t, cfg)
			httpPort, tlsPort := closedPort(t), portOf(r.addrs.api)
			if tt.viaHTTP01 {
				httpPort, tlsPort = portOf(r.addrs.acmeHTTP), closedPort(t)
			}
			pebble.configure(t, httpPort, tlsPort, resolver)
			creds, _ := os.ReadFile(filepath.Join(dataDir, "initial-credentials"))
			if !strings.Contains(string(creds), "https://tokend.test:"+strconv.Itoa(portOf(r.addrs.api))+"/") {
				t.Errorf("bootstrap wrote %q, want the https URL of tokend.test", creds)
			}

			roots := x509.NewCertPool()
			roots.AddCert(pebble.root)
			client := httpsClient(roots, resolver, r.addrs.api.String())
			serials := map[string]string{}
			for _, d := range domains {
				resp := mustGet(t, client, "https://"+d+"/healthz")
				leaf := resp.TLS.PeerCertificates[0]
				if resp.StatusCode != 200 || resp.ProtoMajor != 2 {
					t.Errorf("%s: got %d over %s, want 200 over HTTP/2", d, resp.StatusCode, resp.Proto)
				}
				if len(leaf.DNSNames) != 1 || leaf.DNSNames[0] != d {
					t.Errorf("%s: got a certificate for %v, want one for %s", d, leaf.DNSNames, d)
				}
				serials[d] = leaf.SerialNumber.String()
			}
			// A name not configured gets no certificate, so no handshake.
			if _, err := client.Get("https://other.test/healthz"); err == nil || !strings.Contains(err.Error(), "tls") {
				t.Errorf("a name not in --acme-domain: got error %v, want a failed TLS handshake", err)
			}
			if tt.viaHTTP01 {
				// Outside the challenge path, the HTTP listener sends clients to HTTPS.
				plain := &http.Client{Timeout: 10 * time.Second,
					CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
				req, _ := http.NewRequest("GET", "http://"+r.addrs.acmeHTTP.String()+"/api/v2/accounts/", nil)
				req.Host = "tokend.test"
				resp, err := plain.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != "https://tokend.test/api/v2/accounts/" {
					t.Errorf("plain HTTP: got %d to %q, want 302 to https://tokend.test/api/v2/accounts/", resp.StatusCode, loc)
				}
			}
			if err := r.shutdown(t); err != nil {
				t.Fatalf("serve returned %v, want nil", err)
			}

			// Restart with the CA gone: the certificates come from <data-dir>/acme.
			pebble.https.Close()
			cfg.tls.acmeHTTPAddr = ""
			r = startServe(t, cfg)
			client = httpsClient(roots, resolver, r.addrs.api.String())
			for _, d := range domains {
				if got := mustGet(t, client, "https://"+d+"/healthz").TLS.PeerCertificates[0].SerialNumber.String(); got != serials[d] {
					t.Errorf("%s after restart: got certificate serial %s, want the cached %s", d, got, serials[d])
				}
			}
			if _, err := os.Stat(filepath.Join(acmeCacheDir(dataDir), "acme_account+key")); err != nil {
				t.Errorf("ACME account key not in the data directory's cache: %v", err)
			}
		})
	}
}

// httpsClient is Go's HTTP client trusting only roots, resolving names through the test's DNS
// answerer and connecting to tokend at addr whatever port the URL says.
func httpsClient(roots *x509.CertPool, resolver, addr string) *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, Resolver: &net.Resolver{PreferGo: true,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "tcp", resolver)
		}}}
	_, port, _ := net.SplitHostPort(addr)
	return &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: roots},
		ForceAttemptHTTP2: true,
		DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
			host, _, err := net.SplitHostPort(a)
			if err != nil {
				return nil, err
			}
			return dialer.DialContext(ctx, network, net.JoinHostPort(host, port))
		},
	}}
}

func mustGet(t *testing.T, c *http.Client, url string) *http.Response {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// TestServeTLSCommandLine runs the tokend binary with the TLS flags as an operator writes them,
// including --acme-domain as a comma-separated list, and reaches it over HTTPS; SIGTERM still
// ends it cleanly.
func TestServeTLSCommandLine(t *testing.T) {
	ca := newTestCA(t)
	dir := t.TempDir()
	certPath, keyPath := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	c, k := ca.issue(t, 7)
	writeAtomic(t, certPath, c)
	writeAtomic(t, keyPath, k)
	resolver := startDNS(t, "tokend.test", "api.tokend.test")
	pebble := startPebble(t)

	tests := []struct {
		name    string
		flags   []string
		acme    bool
		roots   func() *x509.CertPool
		urls    []string
		wantLog string
	}{
		{
			name:  "--tls-cert and --tls-key",
			flags: []string{"--tls-cert", certPath, "--tls-key", keyPath},
			roots: func() *x509.CertPool { return ca.pool },
			urls:  []string{"https://localhost/healthz"}, wantLog: "tls=files",
		},
		{
			name: "--acme-domain as a list",
			flags: []string{"--acme-domain", "tokend.test,api.tokend.test", "--acme-email", "ops@tokend.test",
				"--acme-directory", pebble.dirURL, "--acme-ca-roots", pebble.rootsFile},
			acme: true,
			roots: func() *x509.CertPool {
				p := x509.NewCertPool()
				p.AddCert(pebble.root)
				return p
			},
			urls: []string{"https://tokend.test/healthz", "https://api.tokend.test/healthz"}, wantLog: "tls=acme",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, storage{"sqlite", append([]string{"--data-dir", t.TempDir()}, tt.flags...)})
			addr := strings.TrimPrefix(srv.url, "http://")
			if !strings.Contains(srv.logs.String(), tt.wantLog) {
				t.Errorf("got log %q, want %q", srv.logs.String(), tt.wantLog)
			}
			if tt.acme {
				_, port, _ := net.SplitHostPort(addr)
				tlsPort, _ := strconv.Atoi(port)
				pebble.configure(t, closedPort(t), tlsPort, resolver)
			}
			client := httpsClient(tt.roots(), resolver, addr)
			for _, u := range tt.urls {
				if resp := mustGet(t, client, u); resp.StatusCode != 200 || resp.ProtoMajor != 2 {
					t.Errorf("%s: got %d over %s, want 200 over HTTP/2", u, resp.StatusCode, resp.Proto)
				}
			}
			srv.stop(t)
		})
	}
}
