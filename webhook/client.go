package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"syscall"
	"time"
)

// Options tune a Client. Zero values take the defaults documented on each field.
type Options struct {
	// AllowPrivate lets deliveries reach loopback, private, link-local and other addresses that
	// are not on the public internet (tokend serve --webhook-allow-private). Off, the address is
	// checked when the connection is made, after name resolution, so that a name resolving to
	// 127.0.0.1 or a cloud metadata address is refused as the address itself would be.
	AllowPrivate bool
	// Timeout bounds one attempt, from dialling to the end of the answer's headers (10 s).
	Timeout time.Duration
	// MaxResponseBytes bounds how much of an answer is read (64 KiB); the rest is dropped.
	MaxResponseBytes int64
	// UserAgent is sent with every request ("tokend-webhooks").
	UserAgent string
}

// Client sends signed webhook messages. One Client is shared by every delivery of a node.
type Client struct {
	http *http.Client
	opts Options
}

// NewClient returns a Client. It uses no proxy (a proxy would dial on the client's behalf,
// past the address check) and follows no redirects.
func NewClient(opts Options) *Client {
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.MaxResponseBytes <= 0 {
		opts.MaxResponseBytes = 64 << 10
	}
	if opts.UserAgent == "" {
		opts.UserAgent = "tokend-webhooks"
	}
	d := &net.Dialer{Timeout: opts.Timeout, KeepAlive: 30 * time.Second}
	if !opts.AllowPrivate {
		d.Control = refusePrivate
	}
	tr := &http.Transport{
		Proxy:                  nil,
		DialContext:            d.DialContext,
		TLSHandshakeTimeout:    opts.Timeout,
		ResponseHeaderTimeout:  opts.Timeout,
		MaxResponseHeaderBytes: 16 << 10,
		MaxIdleConns:           64,
		MaxIdleConnsPerHost:    2,
		IdleConnTimeout:        90 * time.Second,
		ForceAttemptHTTP2:      true,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
	}
	return &Client{opts: opts, http: &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Timeout is the bound of one attempt.
func (c *Client) Timeout() time.Duration { return c.opts.Timeout }

// Attempt is what one attempt to deliver a message came to.
type Attempt struct {
	StatusCode int // 0: no answer
	Duration   time.Duration
	// Error says why the message was not delivered, in the words a person fixing the endpoint
	// needs; it never holds the endpoint's URL (whose query may carry a credential) nor the
	// secret. Empty when the endpoint answered 2xx.
	Error string
	// RetryAfter is the wait the endpoint asked for with Retry-After (a 429 or 503), in whole
	// seconds; zero when it asked for none.
	RetryAfter time.Duration
}

// Delivered reports whether the endpoint took the message (answered 2xx).
func (a Attempt) Delivered() bool { return a.Error == "" }

// Send posts body to rawURL as message id, signed with secrets at now. It never returns an
// error: what went wrong is in the Attempt.
func (c *Client) Send(ctx context.Context, rawURL, id string, secrets []string, now time.Time, body []byte) Attempt {
	sig, err := Sign(secrets, id, now, body)
	if err != nil {
		return Attempt{Error: "the endpoint's secret cannot sign: " + err.Error()}
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		return Attempt{Error: "the endpoint's URL cannot be requested"}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", c.opts.UserAgent)
	req.Header.Set(HeaderID, id)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(HeaderSignature, sig)
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		return Attempt{Duration: time.Since(start), Error: describe(err, c.opts.Timeout)}
	}
	// The answer is read (bounded) so that the connection can be reused, then dropped.
	_, rerr := io.Copy(io.Discard, io.LimitReader(resp.Body, c.opts.MaxResponseBytes))
	resp.Body.Close()
	a := Attempt{StatusCode: resp.StatusCode, Duration: time.Since(start)}
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		a.Error = fmt.Sprintf("the endpoint answered %d, a redirect; redirects are not followed: set the webhook's URL to where it points", resp.StatusCode)
	case resp.StatusCode < 200 || resp.StatusCode >= 300:
		a.Error = fmt.Sprintf("the endpoint answered %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
			if n, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && n > 0 {
				a.RetryAfter = time.Duration(min(n, 24*3600)) * time.Second
			}
		}
	case rerr != nil && ctx.Err() != nil:
		// Headers came in time but the body did not: the message may have been taken, but
		// the answer was not complete.
		a.Error = fmt.Sprintf("the endpoint's answer did not end within %s", c.opts.Timeout)
	}
	return a
}

// describe turns a failed request into words about the endpoint, without its URL.
func describe(err error, timeout time.Duration) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // its text repeats the URL
	}
	var (
		pe   *PrivateAddressError
		dns  *net.DNSError
		cert *tls.CertificateVerificationError
		rec  tls.RecordHeaderError
		ua   x509.UnknownAuthorityError
		host x509.HostnameError
		alrt tls.AlertError
		ne   net.Error
	)
	switch {
	case errors.As(err, &pe):
		return pe.Error()
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return fmt.Sprintf("no answer within %s", timeout)
	case errors.Is(err, context.Canceled):
		return "the attempt was cancelled (the server stopped); it will be tried again"
	case errors.As(err, &dns):
		if dns.IsNotFound {
			return fmt.Sprintf("the host name %s does not exist", dns.Name)
		}
		return fmt.Sprintf("the host name %s could not be resolved", dns.Name)
	case errors.As(err, &ua):
		return "TLS: the endpoint's certificate is not signed by a trusted authority"
	case errors.As(err, &host):
		return "TLS: the endpoint's certificate is not valid for its host name"
	case errors.As(err, &cert):
		return "TLS: the endpoint's certificate was refused: " + cert.Err.Error()
	case errors.As(err, &rec):
		return "TLS: the endpoint does not speak TLS on that port"
	case errors.As(err, &alrt):
		return "TLS: the endpoint ended the handshake: " + alrt.Error()
	case errors.Is(err, syscall.ECONNREFUSED):
		return "the connection was refused (nothing listens on that port)"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the endpoint closed the connection without an answer"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "the endpoint's address cannot be reached"
	}
	return "the request failed: " + err.Error()
}

// PrivateAddressError refuses a connection to an address that is not on the public internet.
type PrivateAddressError struct {
	Addr   netip.Addr
	Reason string // "loopback", "private", …
}

func (e *PrivateAddressError) Error() string {
	return fmt.Sprintf("refused to connect to %s, a %s address: webhooks go to public addresses only, unless the server runs with --webhook-allow-private",
		e.Addr, e.Reason)
}

// refusePrivate is the dialer's check of each address it is about to connect to (after name
// resolution, for every address a name resolves to).
func refusePrivate(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &PrivateAddressError{Reason: "unparsable"}
	}
	if why := NonPublic(ap.Addr()); why != "" {
		return &PrivateAddressError{Addr: ap.Addr().Unmap(), Reason: why}
	}
	return nil
}

// Ranges that are neither private nor loopback in net/netip's terms but still not the public
// internet, with the reason each is refused.
var special = []struct {
	prefix netip.Prefix
	reason string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "\"this network\""},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared (carrier-grade NAT)"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved"},
	{netip.MustParsePrefix("fec0::/10"), "site-local"},
	{netip.MustParsePrefix("100::/64"), "discard-only"},
}

// NonPublic says why ip is not a public internet address ("" when it is): loopback, private,
// link-local, unspecified, multicast, broadcast, reserved, and the IPv6 forms that carry such
// an IPv4 address (IPv4-mapped, NAT64, 6to4).
func NonPublic(ip netip.Addr) string {
	if !ip.IsValid() {
		return "invalid"
	}
	ip = ip.Unmap()
	switch {
	case ip.IsLoopback():
		return "loopback"
	case ip.IsUnspecified():
		return "unspecified"
	case ip.IsPrivate():
		return "private"
	case ip.IsLinkLocalUnicast():
		return "link-local"
	case ip.IsMulticast(), ip.IsLinkLocalMulticast(), ip.IsInterfaceLocalMulticast():
		return "multicast"
	case ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return "broadcast"
	}
	for _, s := range special {
		if s.prefix.Contains(ip) {
			return s.reason
		}
	}
	if ip.Is6() {
		b := ip.As16()
		var embedded netip.Addr
		switch {
		case nat64.Contains(ip):
			embedded = netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
		case sixToFour.Contains(ip):
			embedded = netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]})
		}
		if embedded.IsValid() {
			if why := NonPublic(embedded); why != "" {
				return why
			}
		}
	}
	return ""
}

var (
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour = netip.MustParsePrefix("2002::/16")
)
