package edge

import (
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// Proxies is the set of addresses whose forwarded headers are believed: the reverse proxies and
// load balancers in front of tokend. The zero value trusts nobody.
type Proxies struct {
	prefixes []netip.Prefix
}

// ParseProxies reads CIDRs (a bare address means just that address), e.g. "10.0.0.0/8,::1".
func ParseProxies(list []string) (Proxies, error) {
	var p Proxies
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		var pfx netip.Prefix
		var err error
		if strings.Contains(s, "/") {
			pfx, err = netip.ParsePrefix(s)
		} else {
			var a netip.Addr
			if a, err = netip.ParseAddr(s); err == nil {
				pfx = netip.PrefixFrom(a, a.BitLen())
			}
		}
		if err != nil {
			return Proxies{}, fmt.Errorf("trusted proxy %q: want a CIDR such as 10.0.0.0/8 or an address", s)
		}
		// An IPv4 range written as IPv4-mapped IPv6 would never match an unmapped address.
		if a := pfx.Addr(); a.Is4In6() && pfx.Bits() >= 96 {
			pfx = netip.PrefixFrom(a.Unmap(), pfx.Bits()-96)
		}
		p.prefixes = append(p.prefixes, pfx.Masked())
	}
	return p, nil
}

// Trusts reports whether a is one of the proxies.
func (p Proxies) Trusts(a netip.Addr) bool {
	for _, pfx := range p.prefixes {
		if pfx.Contains(a) {
			return true
		}
	}
	return false
}

// Client is where a request comes from, worked out once when it arrives.
type Client struct {
	// Addr is the client's address: the connection's peer, or behind trusted proxies the
	// right-most X-Forwarded-For entry that is not one of them. Invalid when it cannot be
	// parsed (then nothing that allows by address allows it).
	Addr netip.Addr
	// IP is Addr as text ("" when Addr is invalid), for audit records and last-used addresses.
	IP string
	// Secure reports whether the browser reached us over TLS: this connection, or the scheme a
	// trusted proxy reports in X-Forwarded-Proto.
	Secure bool
	// RequestID names the request in logs and in the X-Request-Id response header.
	RequestID string
}

// client works out the address and scheme of r. Forwarded headers count only when the
// connection comes from a trusted proxy: anyone else could write them. Behind proxies, the
// client is found walking X-Forwarded-For from the right (each proxy appends the address it
// was called from) past every trusted proxy; whatever stands left of that was written by the
// client itself and is ignored.
func (p Proxies) client(r *http.Request) (addr netip.Addr, secure bool) {
	secure = r.TLS != nil
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}, secure
	}
	addr = peer.Addr().Unmap()
	if len(p.prefixes) == 0 || !p.Trusts(addr) {
		return addr, secure
	}
	hops := headerList(r.Header.Values("X-Forwarded-For"))
	at := len(hops) // index of the client among hops; len(hops): the peer itself
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseHop(hops[i])
		if !ok {
			break // a trusted proxy wrote nothing usable: the last address known stands
		}
		addr, at = a, i
		if !p.Trusts(a) {
			break
		}
	}
	// X-Forwarded-Proto the same way: a list aligned with X-Forwarded-For names the scheme of
	// each hop; a single value is the nearest proxy's.
	if protos := headerList(r.Header.Values("X-Forwarded-Proto")); len(protos) > 0 {
		proto := protos[len(protos)-1]
		if len(protos) == len(hops) && at < len(hops) {
			proto = protos[at]
		}
		secure = strings.EqualFold(proto, "https")
	}
	return addr, secure
}

// headerList splits comma-separated header values, over every line of the header.
func headerList(lines []string) []string {
	var out []string
	for _, l := range lines {
		for v := range strings.SplitSeq(l, ",") {
			if v = strings.TrimSpace(v); v != "" {
				out = append(out, v)
			}
		}
	}
	return out
}

// parseHop reads one X-Forwarded-For entry: an address, possibly with a port, IPv6 possibly
// in brackets.
func parseHop(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	if a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")); err == nil {
		return a.Unmap(), true
	}
	return netip.Addr{}, false
}

// Origin is the scheme and host a browser uses to reach tokend: the public URL's when one is
// configured, otherwise the request's Host with the scheme the client used.
func (e *Edge) Origin(r *http.Request) string {
	if e.publicOrigin != "" {
		return e.publicOrigin
	}
	scheme := "http"
	if ClientFrom(r.Context()).Secure {
		scheme = "https"
	}
	return scheme + "://" + strings.ToLower(r.Host)
}

// BaseURL is the URL a browser uses to reach tokend, without a trailing slash, for links the
// server hands out: the public URL when one is configured, otherwise Origin.
func (e *Edge) BaseURL(r *http.Request) string {
	if e.publicBase != "" {
		return e.publicBase
	}
	return e.Origin(r)
}

// parsePublicURL checks --public-url and returns its origin and its form without a trailing
// slash.
func parsePublicURL(s string) (origin, base string, secure bool, err error) {
	if s == "" {
		return "", "", false, nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		u.RawQuery != "" || u.Fragment != "" {
		return "", "", false, fmt.Errorf("public URL %q: want http(s)://host[:port][/path], e.g. https://tokend.example.com", s)
	}
	origin = u.Scheme + "://" + strings.ToLower(u.Host)
	return origin, origin + strings.TrimSuffix(u.EscapedPath(), "/"), u.Scheme == "https", nil
}
