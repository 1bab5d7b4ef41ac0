package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// tlsFlags choose how serve speaks TLS: not at all (the default, for loopback and behind a
// proxy), with a certificate and key from files, or with certificates obtained over ACME.
type tlsFlags struct {
	certFile, keyFile string
	// reloadEvery is how often, at most, the certificate files are checked for a renewal.
	reloadEvery time.Duration

	acmeDomains   []string
	acmeEmail     string
	acmeDirectory string
	acmeCARoots   string
	acmeHTTPAddr  string
}

// defaultCertCheck is how often, at most, a handshake looks at the certificate files: often
// enough that a renewal shows within seconds, rarely enough that handshakes do not read files.
const defaultCertCheck = 5 * time.Second

func (f *tlsFlags) mode() string {
	switch {
	case f.certFile != "" || f.keyFile != "":
		return "files"
	case len(f.acmeDomains) > 0:
		return "acme"
	}
	return "off"
}

// check refuses combinations that cannot be what the operator meant.
func (f *tlsFlags) check() error {
	if (f.certFile == "") != (f.keyFile == "") {
		return errors.New("--tls-cert and --tls-key go together: give both files or neither")
	}
	acmeSet := f.acmeEmail != "" || f.acmeCARoots != "" || f.acmeHTTPAddr != ""
	if f.certFile != "" && (len(f.acmeDomains) > 0 || acmeSet) {
		return errors.New("--tls-cert/--tls-key and --acme-* are alternatives: certificates come from files or from ACME, not both")
	}
	if len(f.acmeDomains) == 0 && acmeSet {
		return errors.New("--acme-email, --acme-ca-roots and --acme-http-addr need --acme-domain")
	}
	for _, d := range f.acmeDomains {
		if d == "" || strings.ContainsAny(d, ":/ *") || net.ParseIP(d) != nil || !strings.Contains(d, ".") {
			return fmt.Errorf("--acme-domain: %q is not a public host name such as tokend.example.com", d)
		}
	}
	return nil
}

// baseTLS is what every TLS listener of tokend shares: TLS 1.2 at least, HTTP/2 offered first.
func baseTLS() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"h2", "http/1.1"},
	}
}

// certFiles serves the certificate and key in two PEM files and picks up a renewal without a
// restart: a handshake re-reads the files when the last look is more than `every` ago, and a
// changed pair replaces the served one only if it loads; otherwise the old one stays.
type certFiles struct {
	certPath, keyPath string
	every             time.Duration
	now               func() time.Time
	log               *slog.Logger

	mu              sync.Mutex
	cert            *tls.Certificate
	certPEM, keyPEM []byte // what cert was loaded from
	next            time.Time
	problem         string    // the last reason a changed pair was refused, so it is logged once
	warned          time.Time // when an ending certificate was last warned about
}

// expiryWarning is how close to its end a certificate from files starts being warned about
// (once a day): nothing else would say so before clients start refusing it.
const expiryWarning = 14 * 24 * time.Hour

// loadCertFiles loads the pair once; a pair that does not load at start is an error.
func loadCertFiles(certPath, keyPath string, every time.Duration, now func() time.Time, log *slog.Logger) (*certFiles, error) {
	c := &certFiles{certPath: certPath, keyPath: keyPath, every: every, now: now, log: log}
	certPEM, keyPEM, err := c.read()
	if err != nil {
		return nil, err
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("--tls-cert %s with --tls-key %s: %w", certPath, keyPath, err)
	}
	c.cert, c.certPEM, c.keyPEM = &cert, certPEM, keyPEM
	c.next = now().Add(every)
	c.warnExpiry(now())
	return c, nil
}

func (c *certFiles) read() (certPEM, keyPEM []byte, err error) {
	if certPEM, err = os.ReadFile(c.certPath); err != nil {
		return nil, nil, fmt.Errorf("--tls-cert: %w", err)
	}
	if keyPEM, err = os.ReadFile(c.keyPath); err != nil {
		return nil, nil, fmt.Errorf("--tls-key: %w", err)
	}
	return certPEM, keyPEM, nil
}

// GetCertificate is the tls.Config hook.
func (c *certFiles) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := c.now(); !now.Before(c.next) {
		c.next = now.Add(c.every)
		c.reload()
		if now.Sub(c.warned) >= 24*time.Hour {
			c.warnExpiry(now)
		}
	}
	return c.cert, nil
}

// reload replaces the served pair when the files hold a different pair that loads.
func (c *certFiles) reload() {
	certPEM, keyPEM, err := c.read()
	if err == nil && bytes.Equal(certPEM, c.certPEM) && bytes.Equal(keyPEM, c.keyPEM) {
		return
	}
	var cert tls.Certificate
	if err == nil {
		// A renewal writes two files; between the writes the pair does not match, and the next
		// look finds it whole.
		cert, err = tls.X509KeyPair(certPEM, keyPEM)
	}
	if err != nil {
		if p := err.Error(); p != c.problem {
			c.problem = p
			c.log.Warn("TLS certificate files changed but do not load; still serving the previous certificate", "err", err)
		}
		return
	}
	c.cert, c.certPEM, c.keyPEM, c.problem = &cert, certPEM, keyPEM, ""
	c.log.Info("loaded renewed TLS certificate", "subject", cert.Leaf.Subject.String(), "not_after", cert.Leaf.NotAfter)
	c.warned = time.Time{}
}

// warnExpiry logs a warning when the served certificate has ended or ends within expiryWarning.
func (c *certFiles) warnExpiry(now time.Time) {
	leaf := c.cert.Leaf
	left := leaf.NotAfter.Sub(now)
	switch {
	case left <= 0:
		c.log.Warn("the TLS certificate has expired and clients refuse it; replace the files (no restart needed)",
			"file", c.certPath, "not_after", leaf.NotAfter)
	case left < expiryWarning:
		c.log.Warn("the TLS certificate expires soon; replace the files (no restart needed)",
			"file", c.certPath, "not_after", leaf.NotAfter)
	default:
		return
	}
	c.warned = now
}

// leaf is the certificate served now.
func (c *certFiles) leaf() *x509.Certificate {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cert.Leaf
}

// letsEncrypt is the default ACME directory.
const letsEncrypt = "https://acme-v02.api.letsencrypt.org/directory"

// acmeManager obtains and renews certificates for the configured names, keeping account key and
// certificates under cacheDir.
func acmeManager(f *tlsFlags, cacheDir string) (*autocert.Manager, error) {
	client := &acme.Client{DirectoryURL: f.acmeDirectory, UserAgent: "tokend/" + version}
	if client.DirectoryURL == "" {
		client.DirectoryURL = letsEncrypt
	}
	if f.acmeCARoots != "" {
		pem, err := os.ReadFile(f.acmeCARoots)
		if err != nil {
			return nil, fmt.Errorf("--acme-ca-roots: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--acme-ca-roots: %s holds no PEM certificate", f.acmeCARoots)
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		client.HTTPClient = &http.Client{Transport: tr}
	}
	return &autocert.Manager{
		// Naming a domain is the operator's consent to the CA's terms.
		Prompt:     autocert.AcceptTOS,
		Cache:      autocert.DirCache(cacheDir),
		HostPolicy: hostPolicy(f.acmeDomains),
		Email:      f.acmeEmail,
		Client:     client,
	}, nil
}

// hostPolicy allows the configured names only. A challenge request on --acme-http-addr names
// the host in its Host header, with a port when the listener is not on 80.
func hostPolicy(domains []string) autocert.HostPolicy {
	allow := autocert.HostWhitelist(domains...)
	return func(ctx context.Context, host string) error {
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		return allow(ctx, host)
	}
}

// acmeTLS is baseTLS with the manager's certificates and the TLS-ALPN-01 challenge protocol.
func acmeTLS(m *autocert.Manager) *tls.Config {
	c := baseTLS()
	c.GetCertificate = m.GetCertificate
	c.NextProtos = append(c.NextProtos, acme.ALPNProto)
	return c
}

// httpsURL is the URL clients use for a TLS listener at addr whose certificate names host
// (empty when unknown).
func httpsURL(host string, addr net.Addr) string {
	_, port, _ := net.SplitHostPort(addr.String())
	if host == "" || strings.HasPrefix(host, "*") {
		return "https://" + addr.String() + "/"
	}
	if port == "443" {
		return "https://" + host + "/"
	}
	return "https://" + net.JoinHostPort(host, port) + "/"
}

// acmeCacheDir is where ACME state lives: beside the SQLite database, in the data directory.
func acmeCacheDir(dataDir string) string { return filepath.Join(dataDir, "acme") }

// isLoopback reports whether addr (host:port) listens on loopback only.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
