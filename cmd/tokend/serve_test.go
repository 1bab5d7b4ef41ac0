package main

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tokend/postgres/pgtest"
)

// storageConfigs are the stores an in-process serve runs on: SQLite always, PostgreSQL where
// the test server answers (and required in CI).
func storageConfigs(t *testing.T) map[string]storageFlags {
	out := map[string]storageFlags{"sqlite": {dataDir: t.TempDir()}}
	if url, ok := pgtest.TrySchemaURL(t); ok {
		out["postgres"] = storageFlags{dataDir: t.TempDir(), databaseURL: url}
	}
	return out
}

// running is a serve started in process by startServe.
type running struct {
	addrs  listeners
	stop   context.CancelFunc
	done   chan error
	stdout *syncBuffer
}

// startServe runs serve(ctx, cfg) in a goroutine and waits until it listens. The server is
// stopped when the test ends if the test did not stop it.
func startServe(t *testing.T, cfg serveConfig) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{stop: cancel, done: make(chan error, 1), stdout: &syncBuffer{}}
	if cfg.addr == "" {
		cfg.addr = "127.0.0.1:0"
	}
	if cfg.flushEvery == 0 {
		cfg.flushEvery = 200 * time.Millisecond
	}
	if cfg.cacheSize == 0 {
		cfg.cacheSize, cfg.cacheTTL = 1000, time.Minute
	}
	cfg.out = r.stdout
	up := make(chan listeners, 1)
	cfg.listening = func(l listeners) { up <- l }
	go func() { r.done <- serve(ctx, cfg) }()
	select {
	case r.addrs = <-up:
	case err := <-r.done:
		cancel()
		t.Fatalf("serve returned before listening: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("serve did not listen within 30s")
	}
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(30 * time.Second):
			t.Error("serve did not return within 30s of its context ending")
		}
	})
	return r
}

// shutdown ends serve's context and returns what serve returned.
func (r *running) shutdown(t *testing.T) error {
	t.Helper()
	r.stop()
	select {
	case err := <-r.done:
		r.done <- err // for the cleanup
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not return within 30s of its context ending")
		return nil
	}
}

func get(t *testing.T, c *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServeInProcess runs serve with its metrics and pprof listeners and checks that all three
// answer, and that all three are closed once serve's context ends.
func TestServeInProcess(t *testing.T) {
	t.Parallel()
	for name, sf := range storageConfigs(t) {
		t.Run(name, func(t *testing.T) {
			r := startServe(t, serveConfig{storage: sf, metricsAddr: "127.0.0.1:0", pprofAddr: "127.0.0.1:0"})
			if r.addrs.metrics == nil || r.addrs.pprof == nil {
				t.Fatalf("got listeners %+v, want metrics and pprof", r.addrs)
			}
			c := &http.Client{Timeout: 10 * time.Second}
			checks := []struct {
				name, url string
				want      int
				body      string
			}{
				{"api", "http://" + r.addrs.api.String() + "/healthz", 200, ""},
				{"metrics", "http://" + r.addrs.metrics.String() + "/metrics", 200, "tokend_build_info"},
				{"pprof", "http://" + r.addrs.pprof.String() + "/debug/pprof/cmdline", 200, ""},
			}
			for _, c2 := range checks {
				if code, body := get(t, c, c2.url); code != c2.want || !strings.Contains(body, c2.body) {
					t.Errorf("%s: got %d %.80q, want %d containing %q", c2.name, code, body, c2.want, c2.body)
				}
			}
			// The output is not a terminal: the credentials go to the data dir's file.
			if b, err := os.ReadFile(filepath.Join(sf.dataDir, "initial-credentials")); err != nil || !strings.Contains(string(b), "owner PAT") {
				t.Errorf("bootstrap wrote %q (%v), want an owner PAT", b, err)
			}
			if err := r.shutdown(t); err != nil {
				t.Fatalf("serve returned %v after its context ended, want nil", err)
			}
			for _, c2 := range checks {
				addr := strings.Split(strings.TrimPrefix(c2.url, "http://"), "/")[0]
				conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
				if err == nil {
					conn.Close()
					t.Errorf("%s listener %s: still accepts after shutdown", c2.name, addr)
				}
			}
		})
	}
}

// TestServeRefusesTakenPort: a listener that cannot open fails the start, naming the flag, and
// leaves nothing listening.
func TestServeRefusesTakenPort(t *testing.T) {
	t.Parallel()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	tests := []struct {
		name string
		cfg  serveConfig
		want string
	}{
		{"api", serveConfig{addr: taken.Addr().String()}, "--addr"},
		{"metrics", serveConfig{addr: "127.0.0.1:0", metricsAddr: taken.Addr().String()}, "--metrics-addr"},
		{"pprof not on loopback", serveConfig{addr: "127.0.0.1:0", pprofAddr: "0.0.0.0:0"}, "--pprof-addr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.storage = storageFlags{dataDir: t.TempDir()}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err := serve(ctx, tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error naming %s", err, tt.want)
			}
			if errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("serve ran until the deadline")
			}
		})
	}
}

// TestServeRefusesUntrustworthyProxyFlags: the flags of the front door are checked before
// anything opens; the retired --trust-proxy-headers says what replaces it.
func TestServeRefusesUntrustworthyProxyFlags(t *testing.T) {
	tests := []struct {
		name string
		cfg  serveConfig
		want string
	}{
		{"the retired flag", serveConfig{oldTrustProxy: true}, "--trusted-proxies"},
		{"a proxy that is no CIDR", serveConfig{trustedProxies: []string{"proxy.example.com"}}, "--trusted-proxies"},
		{"a public URL that is no URL", serveConfig{publicURL: "tokend.example.com"}, "--public-url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.addr = "127.0.0.1:0"
			tt.cfg.storage = storageFlags{dataDir: t.TempDir()}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := serve(ctx, tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error naming %s", err, tt.want)
			}
		})
	}
}
