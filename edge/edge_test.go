package edge_test

import (
	"crypto/tls"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"tokend"
	"tokend/edge"
)

func proxies(t testing.TB, cidrs ...string) edge.Proxies {
	t.Helper()
	p, err := edge.ParseProxies(cidrs)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// seen serves one request through an edge and returns the client it worked out.
func seen(t *testing.T, e *edge.Edge, r *http.Request) edge.Client {
	t.Helper()
	var c edge.Client
	h := e.Wrap("test", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c = edge.ClientFrom(r.Context())
		if got := tokend.RequestMetaFrom(r.Context()).IP; got != c.IP {
			t.Errorf("request metadata: got IP %q, want %q", got, c.IP)
		}
	}), nil)
	h.ServeHTTP(httptest.NewRecorder(), r)
	return c
}

func TestClientAddress(t *testing.T) {
	trusted := proxies(t, "10.0.0.0/8", "2001:db8:cafe::/48", "::ffff:192.168.0.0/112")
	tests := []struct {
		name       string
		proxies    edge.Proxies
		remote     string
		xff        []string
		proto      string
		want       string
		wantSecure bool
	}{
		{"no proxies: the peer, whatever the headers", edge.Proxies{}, "203.0.113.7:5000", []string{"10.9.9.9"}, "https", "203.0.113.7", false},
		{"an untrusted peer's headers are ignored", trusted, "203.0.113.7:5000", []string{"10.9.9.9"}, "https", "203.0.113.7", false},
		{"one appending proxy", trusted, "10.0.0.2:4000", []string{"198.51.100.4"}, "https", "198.51.100.4", true},
		{"a client's forged entry stays left of the real one", trusted, "10.0.0.2:4000", []string{"10.9.9.9, 198.51.100.4"}, "", "198.51.100.4", false},
		{"a chain of trusted proxies", trusted, "10.0.0.2:4000", []string{"10.9.9.9, 198.51.100.4, 10.1.1.1", "10.2.2.2"}, "", "198.51.100.4", false},
		{"all trusted: the left-most", trusted, "10.0.0.2:4000", []string{"10.3.3.3, 10.1.1.1"}, "", "10.3.3.3", false},
		{"garbage from a trusted hop: the last address known", trusted, "10.0.0.2:4000", []string{"nonsense, 10.1.1.1"}, "", "10.1.1.1", false},
		{"IPv6 with port and brackets", trusted, "[2001:db8:cafe::1]:443", []string{"[2001:db8:1::5]:1234"}, "", "2001:db8:1::5", false},
		{"IPv4-mapped addresses are plain IPv4", trusted, "[::ffff:192.168.0.9]:80", []string{"::ffff:198.51.100.4"}, "", "198.51.100.4", false},
		{"proto aligned with the hops", trusted, "10.0.0.2:4000", []string{"198.51.100.4, 10.1.1.1"}, "https, http", "198.51.100.4", true},
		{"proto of the nearest proxy", trusted, "10.0.0.2:4000", []string{"198.51.100.4, 10.1.1.1"}, "http", "198.51.100.4", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := edge.New(edge.Options{Logger: slog.New(slog.DiscardHandler), TrustedProxies: tc.proxies})
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.remote
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if tc.proto != "" {
				r.Header.Set("X-Forwarded-Proto", tc.proto)
			}
			c := seen(t, e, r)
			if c.IP != tc.want || c.Secure != tc.wantSecure {
				t.Errorf("got %q (secure %v), want %q (secure %v)", c.IP, c.Secure, tc.want, tc.wantSecure)
			}
		})
	}
}

func TestParseProxiesRefusesNonsense(t *testing.T) {
	for _, s := range []string{"10.0.0.0/33", "proxy.example.com", "10.0.0"} {
		if _, err := edge.ParseProxies([]string{s}); err == nil {
			t.Errorf("%q: got no error, want one", s)
		}
	}
}

func TestOrigin(t *testing.T) {
	tests := []struct {
		name, publicURL, host string
		tls                   bool
		want                  string
	}{
		{"the request's host and scheme", "", "Tokend.Example.com:8080", false, "http://tokend.example.com:8080"},
		{"over TLS", "", "tokend.example.com", true, "https://tokend.example.com"},
		{"the public URL wins over Host", "https://tokend.example.com/", "10.0.0.5:8080", false, "https://tokend.example.com"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := edge.New(edge.Options{Logger: slog.New(slog.DiscardHandler), PublicURL: tc.publicURL})
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest("GET", "/", nil)
			r.Host = tc.host
			if tc.tls {
				r.TLS = &tls.ConnectionState{}
			}
			var got string
			e.Wrap("test", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = e.Origin(r) }), nil).
				ServeHTTP(httptest.NewRecorder(), r)
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	if _, err := edge.New(edge.Options{PublicURL: "ftp://x"}); err == nil {
		t.Error("public URL ftp://x: got no error, want one")
	}
}

// syncBuffer collects log output.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Every request gets an id (in the response and its log line); the log line names the client,
// the route pattern, the token's uid (never the token) and a duration with its unit; a panic is
// answered in the door's format; an internal error's text is logged, not sent.
func TestRequestLog(t *testing.T) {
	var logs syncBuffer
	e, err := edge.New(edge.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /things/{id}", func(w http.ResponseWriter, r *http.Request) {
		edge.SetToken(r.Context(), "AbCdEf1234")
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /boom", func(w http.ResponseWriter, r *http.Request) { panic("boom") })
	mux.HandleFunc("GET /broken", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(edge.Fail(w, r, errors.New("disk on fire")))
	})
	answer := func(w http.ResponseWriter, r *http.Request, err error) {
		w.WriteHeader(edge.Fail(w, r, err))
		w.Write([]byte("door's own answer"))
	}
	srv := httptest.NewServer(e.Wrap("test", mux, answer))
	defer srv.Close()

	ids := map[string]bool{}
	for _, tc := range []struct {
		path   string
		status int
		want   []string
	}{
		{"/things/42?token=secret", http.StatusNoContent, []string{`route="GET /things/{id}"`, "token_uid=AbCdEf1234", "status=204", "duration_ms=", "client=127.0.0.1"}},
		{"/boom", http.StatusInternalServerError, []string{"panic=boom", "status=500"}},
		{"/broken", http.StatusInternalServerError, []string{`err="disk on fire"`, "level=ERROR"}},
	} {
		resp, err := http.Get(srv.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		id := resp.Header.Get("X-Request-Id")
		if resp.StatusCode != tc.status || id == "" || ids[id] {
			t.Errorf("%s: got %d with request id %q, want %d with a new id", tc.path, resp.StatusCode, id, tc.status)
		}
		ids[id] = true
		line := ""
		for l := range strings.SplitSeq(logs.String(), "\n") {
			if strings.Contains(l, "request_id="+id) && strings.Contains(l, "msg=request") {
				line = l
			}
		}
		for _, w := range tc.want {
			if !strings.Contains(logs.String(), w) {
				t.Errorf("%s: log lacks %s:\n%s", tc.path, w, logs.String())
			}
		}
		if line == "" {
			t.Errorf("%s: no request line with request_id=%s:\n%s", tc.path, id, logs.String())
		}
	}
	if strings.Contains(logs.String(), "secret") {
		t.Errorf("the query string reached the log:\n%s", logs.String())
	}
}
