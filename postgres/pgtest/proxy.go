package pgtest

import (
	"net"
	"net/url"
	"sync"
	"testing"
)

// Proxy is a loopback TCP proxy in front of the test server that a test can freeze: while
// frozen it keeps every connection open and accepts new ones, but forwards no byte in either
// direction, as a network partition that drops packets silently would. Held bytes flow again
// on Thaw.
type Proxy struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	frozen bool
	thawed chan struct{} // closed on Thaw; replaced on Freeze
	conns  []net.Conn
	closed bool
}

// NewProxy starts a proxy to the server of u (a postgres:// URL), closed when tb ends.
func NewProxy(tb testing.TB, u string) *Proxy {
	tb.Helper()
	p, err := StartProxy(u)
	if err != nil {
		tb.Fatalf("proxy: %v", err)
	}
	tb.Cleanup(p.Close)
	return p
}

// StartProxy starts a proxy to the server of u on a loopback port; the caller closes it.
func StartProxy(u string) (*Proxy, error) {
	pu, err := url.Parse(u)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, target: pu.Host, thawed: make(chan struct{})}
	close(p.thawed)
	go p.serve()
	return p, nil
}

// URL returns u with its server replaced by the proxy.
func (p *Proxy) URL(u string) string {
	pu, err := url.Parse(u)
	if err != nil {
		return u
	}
	pu.Host = p.ln.Addr().String()
	return pu.String()
}

// Freeze stops forwarding without closing anything.
func (p *Proxy) Freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.frozen {
		p.frozen = true
		p.thawed = make(chan struct{})
	}
}

// Thaw forwards again, held bytes first.
func (p *Proxy) Thaw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.frozen {
		p.frozen = false
		close(p.thawed)
	}
}

// Close stops the proxy and closes every connection through it.
func (p *Proxy) Close() {
	p.mu.Lock()
	p.closed = true
	conns := p.conns
	p.conns = nil
	p.mu.Unlock()
	p.ln.Close()
	for _, c := range conns {
		c.Close()
	}
	p.Thaw()
}

func (p *Proxy) gate() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.thawed
}

func (p *Proxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns = append(p.conns, cs...)
	return true
}

func (p *Proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.handle(c)
	}
}

func (p *Proxy) handle(client net.Conn) {
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		client.Close()
		return
	}
	if !p.track(client, server) {
		client.Close()
		server.Close()
		return
	}
	go p.pump(server, client)
	p.pump(client, server)
}

// pump copies src to dst, holding each chunk while the proxy is frozen.
func (p *Proxy) pump(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32*1024)
	for {
		<-p.gate()
		n, err := src.Read(buf)
		if n > 0 {
			<-p.gate()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
