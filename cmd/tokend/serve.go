package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	stdlog "log"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/crypto/acme/autocert"
	"golang.org/x/term"

	"tokend"
	"tokend/console"
	"tokend/edge"
	"tokend/httpapi"
	"tokend/idtoken"
	"tokend/perm"
)

// serveConfig is everything `tokend serve` needs; tests build one and call serve in process.
type serveConfig struct {
	storage              storageFlags
	addr                 string
	trustedProxies       []string
	publicURL            string
	oldTrustProxy        bool // --trust-proxy-headers, refused with a pointer to its replacement
	flushEvery, cacheTTL time.Duration
	cacheSize            int
	// The change feed (docs/operations.md, "Caches and the change feed").
	feedPoll, feedStale time.Duration
	feedPollOnly        bool
	pprofAddr           string
	metricsAddr         string
	// Webhook delivery (docs/operations.md, "Webhooks").
	webhookAllowPrivate bool
	webhookTimeout      time.Duration
	webhookConcurrency  int
	tls                 tlsFlags
	// otelEndpoint names an OTLP/HTTP collector (docs/operations.md, "Tracing").
	otelEndpoint string

	log *slog.Logger
	out io.Writer // where the bootstrap credentials are printed, once, when it is a terminal
	// credentialsFile receives them otherwise (empty: initial-credentials in the data dir).
	credentialsFile string

	// listening, when set, is told the addresses once every listener is open; tests use it to
	// find servers started on port 0.
	listening func(listeners)
}

// listeners are the addresses serve listens on; nil for those not configured.
type listeners struct {
	api, metrics, pprof, acmeHTTP net.Addr
}

func newServeCmd() *cobra.Command {
	var (
		cfg                 serveConfig
		logFormat, logLevel string
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the API server",
		Long: `serve runs the API. Migrations run at start. On an empty database it bootstraps an
account, its owner and an owner token, and prints them once.`,
		Example: `  tokend serve --data-dir /var/lib/tokend --addr 127.0.0.1:8080
  TOKEND_DATABASE_URL=postgres://tokend@db/tokend tokend serve --addr :8080 --log-format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
			}
			log, err := newLogger(cmd.ErrOrStderr(), logFormat, logLevel)
			if err != nil {
				return err
			}
			cfg.log, cfg.out = log, cmd.OutOrStdout()
			return serve(cmd.Context(), cfg)
		},
	}
	cfg.storage.register(cmd.Flags())
	f := cmd.Flags()
	f.StringVar(&cfg.addr, "addr", "127.0.0.1:8080", "address to listen on")
	f.StringVar(&logFormat, "log-format", "text", "log format: text or json")
	f.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn, error")
	f.StringSliceVar(&cfg.trustedProxies, "trusted-proxies", nil, "CIDRs of the reverse proxies in front of tokend, whose X-Forwarded-For and X-Forwarded-Proto are believed (e.g. 10.0.0.0/8,127.0.0.1)")
	f.StringVar(&cfg.publicURL, "public-url", "", "the URL people use to reach tokend (e.g. https://tokend.example.com): the console's same-origin check and the device login's links (default: the request's scheme and host)")
	f.BoolVar(&cfg.oldTrustProxy, "trust-proxy-headers", false, "replaced by --trusted-proxies")
	_ = f.MarkHidden("trust-proxy-headers")
	f.DurationVar(&cfg.flushEvery, "usage-flush-interval", 15*time.Second, "how often last-used times are written")
	f.DurationVar(&cfg.cacheTTL, "cache-ttl", 5*time.Minute, "longest life of any cached entry (the change feed drops entries at once)")
	f.DurationVar(&cfg.feedPoll, "feed-poll-interval", time.Second, "how often the change feed is read without a wake-up")
	f.DurationVar(&cfg.feedStale, "feed-stale-after", 3*time.Second, "caches stop answering this long after the last good read of the change feed")
	f.BoolVar(&cfg.feedPollOnly, "feed-poll-only", false, "read the change feed on the timer only, without LISTEN (for PgBouncer in transaction mode)")
	f.IntVar(&cfg.cacheSize, "cache-size", 100_000, "verified tokens kept in memory")
	f.BoolVar(&cfg.webhookAllowPrivate, "webhook-allow-private", false, "let webhooks reach loopback, private and link-local addresses and http:// URLs (tests, private networks)")
	f.DurationVar(&cfg.webhookTimeout, "webhook-timeout", 10*time.Second, "bound of one webhook delivery attempt")
	f.IntVar(&cfg.webhookConcurrency, "webhook-concurrency", 8, "webhook deliveries this node makes at once")
	// For docs/benchmarks.md: profiles of a running server, on loopback only.
	f.StringVar(&cfg.pprofAddr, "pprof-addr", "", "serve net/http/pprof on this loopback address")
	f.StringVar(&cfg.metricsAddr, "metrics-addr", "", "serve Prometheus metrics at /metrics on this address (keep it internal)")
	f.StringVar(&cfg.otelEndpoint, "otel-endpoint", "", "send OpenTelemetry traces over OTLP/HTTP to this collector (e.g. http://127.0.0.1:4318); default: OTEL_EXPORTER_OTLP_ENDPOINT, else no tracing")
	f.StringVar(&cfg.credentialsFile, "credentials-file", "", "where first-start credentials go when stdout is not a terminal (default: initial-credentials in --data-dir)")
	_ = f.MarkHidden("pprof-addr")
	f.StringVar(&cfg.tls.certFile, "tls-cert", "", "serve HTTPS with this PEM certificate (chain) file, re-read when it changes")
	f.StringVar(&cfg.tls.keyFile, "tls-key", "", "the PEM private key of --tls-cert")
	f.StringSliceVar(&cfg.tls.acmeDomains, "acme-domain", nil, "serve HTTPS with certificates obtained over ACME for this public name (repeat or comma-separate)")
	f.StringVar(&cfg.tls.acmeEmail, "acme-email", "", "contact address given to the ACME certificate authority")
	f.StringVar(&cfg.tls.acmeDirectory, "acme-directory", letsEncrypt, "ACME directory URL of the certificate authority")
	f.StringVar(&cfg.tls.acmeCARoots, "acme-ca-roots", "", "PEM file of roots to trust for the ACME directory (a private CA); default: the system's")
	f.StringVar(&cfg.tls.acmeHTTPAddr, "acme-http-addr", "", "also answer ACME HTTP-01 challenges here (e.g. :80); other requests are redirected to HTTPS")
	return cmd
}

// shutdownGrace is how long requests in flight may take to finish once serve is told to stop.
const shutdownGrace = 20 * time.Second

// serve runs the API, the console and the side listeners (metrics, pprof) until ctx ends, then
// shuts all of them down gracefully and flushes token uses.
func serve(ctx context.Context, cfg serveConfig) error {
	log := cfg.log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	out := cfg.out
	if out == nil {
		out = io.Discard
	}
	build := readBuildInfo()
	tracer, stopTracing, err := newTracer(ctx, cfg.otelEndpoint, build)
	if err != nil {
		return err
	}
	defer func() {
		// What is still batched goes out before the process ends.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := stopTracing(ctx); err != nil {
			log.Warn("OpenTelemetry: flush at shutdown", "err", err)
		}
	}()
	// The flags of the front door are checked before anything is opened.
	front, err := newEdge(cfg, log, tracer)
	if err != nil {
		return err
	}
	if err := cfg.tls.check(); err != nil {
		return err
	}
	// Certificates load before anything else, so a wrong file fails the start at once.
	var (
		tlsConf  *tls.Config
		certs    *certFiles
		acmeMgr  *autocert.Manager
		tlsMode  = cfg.tls.mode()
		reloadIn = cfg.tls.reloadEvery
	)
	if reloadIn <= 0 {
		reloadIn = defaultCertCheck
	}
	switch tlsMode {
	case "files":
		var err error
		if certs, err = loadCertFiles(cfg.tls.certFile, cfg.tls.keyFile, reloadIn, time.Now, log); err != nil {
			return err
		}
		tlsConf = baseTLS()
		tlsConf.GetCertificate = certs.GetCertificate
	case "acme":
		var err error
		if acmeMgr, err = acmeManager(&cfg.tls, acmeCacheDir(cfg.storage.dataDir)); err != nil {
			return err
		}
		tlsConf = acmeTLS(acmeMgr)
	}
	st, kind, err := cfg.storage.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := tokend.NewService(st, tokend.Options{
		Logger: log, CacheSize: cfg.cacheSize, CacheTTL: cfg.cacheTTL, UsageFlushInterval: cfg.flushEvery,
		IDTokens:         idtoken.New(idtoken.Options{}),
		FeedPollInterval: cfg.feedPoll, FeedStaleAfter: cfg.feedStale, FeedPollOnly: cfg.feedPollOnly,
		WebhookAllowPrivate: cfg.webhookAllowPrivate, WebhookTimeout: cfg.webhookTimeout, WebhookConcurrency: cfg.webhookConcurrency,
	})
	if cfg.webhookAllowPrivate {
		log.Warn("webhooks may reach loopback and private addresses (--webhook-allow-private)")
	}

	// Every listener opens before anything is served, so a taken port fails the start cleanly.
	var lns []net.Listener
	defer func() {
		for _, l := range lns {
			l.Close() // already closed by Shutdown when serving began; harmless then
		}
	}()
	listen := func(flag, addr string, open func(string) (net.Listener, error)) (net.Listener, error) {
		l, err := open(addr)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", flag, err)
		}
		lns = append(lns, l)
		return l, nil
	}
	tcp := func(addr string) (net.Listener, error) { return net.Listen("tcp", addr) }
	ln, err := listen("--addr", cfg.addr, tcp)
	if err != nil {
		return err
	}
	var mln, pln, aln net.Listener
	if cfg.tls.acmeHTTPAddr != "" {
		if aln, err = listen("--acme-http-addr", cfg.tls.acmeHTTPAddr, tcp); err != nil {
			return err
		}
	}
	if cfg.metricsAddr != "" {
		if mln, err = listen("--metrics-addr", cfg.metricsAddr, tcp); err != nil {
			return err
		}
	}
	if cfg.pprofAddr != "" {
		if pln, err = listen("--pprof-addr", cfg.pprofAddr, listenPprof); err != nil {
			return err
		}
	}
	baseURL := "http://" + ln.Addr().String() + "/"
	switch tlsMode {
	case "files":
		host := ""
		if names := certs.leaf().DNSNames; len(names) > 0 {
			host = names[0]
		}
		baseURL = httpsURL(host, ln.Addr())
	case "acme":
		baseURL = httpsURL(cfg.tls.acmeDomains[0], ln.Addr())
	}
	if err := bootstrap(ctx, svc, st, out, baseURL, credsFile(cfg.storage, cfg.credentialsFile), log); err != nil {
		return err
	}

	api := httpapi.New(svc, httpapi.Options{
		Logger: log, Edge: front, Version: build.Version, Commit: build.Commit, Dirty: build.Dirty,
		Ready: func(r *http.Request) error { return st.Ping(r.Context()) },
	})
	// The API keeps /api/ and the probes; the web console serves everything else.
	apiHandler := api.Handler()
	web := http.NewServeMux()
	web.Handle("/api/", apiHandler)
	web.Handle("/healthz", apiHandler)
	web.Handle("/readyz", apiHandler)
	web.Handle("/", console.New(svc, console.Options{
		Logger: log, Edge: front, RouteNeeds: httpapi.RouteNeeds(),
	}).Handler())

	type served struct {
		srv  *http.Server
		ln   net.Listener
		name string
	}
	apiServer := &http.Server{
		Handler:           web,
		TLSConfig:         tlsConf,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          serverErrorLog(log),
	}
	all := []served{{apiServer, ln, "api"}}
	var lsn listeners
	lsn.api = ln.Addr()
	if mln != nil {
		metrics := http.NewServeMux()
		metrics.Handle("GET /metrics", api.MetricsHandler())
		all = append(all, served{sideServer(metrics, log), mln, "metrics"})
		lsn.metrics = mln.Addr()
		log.Info("serving metrics", "addr", mln.Addr().String())
	}
	if aln != nil {
		// HTTP-01 challenges, and a redirect to HTTPS for anything else.
		all = append(all, served{sideServer(acmeMgr.HTTPHandler(nil), log), aln, "acme-http"})
		lsn.acmeHTTP = aln.Addr()
	}
	if pln != nil {
		// Profiles take as long as asked (?seconds=), so no write timeout here.
		psrv := sideServer(pprofMux(), log)
		psrv.WriteTimeout = 0
		all = append(all, served{psrv, pln, "pprof"})
		lsn.pprof = pln.Addr()
	}

	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	bgDone := make(chan error, 1)
	go func() { bgDone <- svc.Run(bg) }()

	serveErr := make(chan error, len(all))
	for _, s := range all {
		go func() {
			var err error
			if s.srv.TLSConfig != nil {
				// ServeTLS turns HTTP/2 on; the certificate comes from TLSConfig.GetCertificate.
				err = s.srv.ServeTLS(s.ln, "", "")
			} else {
				err = s.srv.Serve(s.ln)
			}
			if !errors.Is(err, http.ErrServerClosed) {
				serveErr <- fmt.Errorf("%s server: %w", s.name, err)
			}
		}()
	}
	log.Info("serving", "addr", ln.Addr().String(), "store", kind, "version", build.String(), "console", baseURL, "tls", tlsMode)
	switch {
	case tlsMode == "off" && !isLoopback(cfg.addr) && len(cfg.trustedProxies) == 0:
		log.Warn("serving plain HTTP on a non-loopback address; clients that build https:// URLs (dbtc, " +
			"dbt-cloud-cli, the Terraform provider) need --tls-cert/--tls-key, --acme-domain or a TLS proxy in front")
	case tlsMode == "acme" && !strings.HasSuffix(ln.Addr().String(), ":443") && aln == nil:
		log.Warn("the certificate authority checks TLS-ALPN-01 on port 443 and HTTP-01 on port 80; " +
			"forward 443 to --addr or set --acme-http-addr :80")
	}
	if cfg.listening != nil {
		cfg.listening(lsn)
	}

	var failed error
	select {
	case failed = <-serveErr:
	case <-ctx.Done():
		log.Info("shutting down")
	}
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	var wg sync.WaitGroup
	shutErrs := make([]error, len(all))
	for i, s := range all {
		wg.Go(func() {
			if err := s.srv.Shutdown(shutCtx); err != nil {
				shutErrs[i] = fmt.Errorf("shut down %s server: %w", s.name, err)
			}
		})
	}
	wg.Wait()
	stopBG()
	if ferr := <-bgDone; ferr != nil {
		log.Error("final flush of token uses", "err", ferr)
	}
	return errors.Join(append([]error{failed}, shutErrs...)...)
}

// serverErrorLog carries net/http's own messages into log as warnings, except failed TLS
// handshakes: on a public address scanners and outdated clients make them all day, so they are
// debug-level unless ACME is the cause (then the certificate is in trouble).
func serverErrorLog(log *slog.Logger) *stdlog.Logger {
	return slog.NewLogLogger(handshakeNoise{log.Handler()}, slog.LevelWarn)
}

type handshakeNoise struct{ slog.Handler }

func (h handshakeNoise) Handle(ctx context.Context, r slog.Record) error {
	if strings.HasPrefix(r.Message, "http: TLS handshake error") && !strings.Contains(r.Message, "acme/autocert") {
		if !h.Handler.Enabled(ctx, slog.LevelDebug) {
			return nil
		}
		r.Level = slog.LevelDebug
	}
	return h.Handler.Handle(ctx, r)
}

// sideServer serves an internal listener (metrics, pprof) with the same header limits as the API.
func sideServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          serverErrorLog(log),
	}
}

// listenPprof listens on addr, which must be a loopback address: profiles reveal memory.
func listenPprof(addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("got %q, want a loopback address such as 127.0.0.1:6060", addr)
	}
	return net.Listen("tcp", addr)
}

func pprofMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// bootstrap initialises an empty database with generated values and shows them once: on a
// terminal, printed; otherwise (a service manager's journal, a container log, a pipe) written
// to credsFile with mode 0600, and the log says where, so no password sits in a log store.
func bootstrap(ctx context.Context, svc *tokend.Service, st tokend.Store, out io.Writer, baseURL, credsFile string, log *slog.Logger) error {
	n, err := st.CountAccounts(ctx)
	if err != nil || n > 0 {
		return err
	}
	host, _ := os.Hostname()
	if host == "" {
		host = "localhost"
	}
	if !isTerminal(out) {
		// Refuse before creating anything: credentials nobody can read are worse than none.
		if err := os.MkdirAll(filepath.Dir(credsFile), 0o700); err != nil {
			return fmt.Errorf("bootstrap: credentials file: %w", err)
		}
	}
	res, err := svc.Init(ctx, tokend.InitParams{
		AccountName: "Default", Plan: perm.PlanEnterprise, Email: "owner@" + hostDomain(host),
	})
	if err != nil {
		return fmt.Errorf("bootstrap: %w", operatorError(err))
	}
	if isTerminal(out) {
		printInit(out, baseURL, res)
		return nil
	}
	if err := writeSecretFile(credsFile, func(w io.Writer) { printInit(w, baseURL, res) }); err != nil {
		// The owner exists now; say so, and how to get in without these credentials.
		return fmt.Errorf("bootstrap: created the account, but could not write its credentials to %s (%w); "+
			"set a password with `tokend user set-password` and create a token with `tokend init`", credsFile, err)
	}
	log.Info("first start: created an account and its owner; their password and token are in the credentials file, shown nowhere else",
		"credentials_file", credsFile, "owner", res.User.Email)
	fmt.Fprintf(out, "tokend: created account and owner; the password and token are in %s (mode 0600)\n", credsFile)
	return nil
}

// credsFile is --credentials-file, or initial-credentials under the data directory.
func credsFile(sf storageFlags, flag string) string {
	if flag != "" {
		return flag
	}
	return filepath.Join(sf.dataDir, "initial-credentials")
}

// isTerminal reports whether w is a terminal a person reads.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// writeSecretFile writes a new file readable by its owner only. An existing file (an earlier
// bootstrap's) is replaced; the new one is created exclusively, so a planted link is not followed.
func writeSecretFile(path string, write func(io.Writer)) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	write(f)
	return errors.Join(f.Sync(), f.Close())
}

// hostDomain makes a hostname usable as an e-mail domain.
func hostDomain(host string) string {
	if net.ParseIP(host) != nil || !strings.Contains(host, ".") {
		return host + ".localdomain"
	}
	return host
}

func printInit(w io.Writer, baseURL string, res *tokend.InitResult) {
	fmt.Fprintln(w, "tokend: created account and owner. The token and password are shown only this once.")
	if baseURL != "" {
		fmt.Fprintf(w, "  URL:        %s\n", baseURL)
		fmt.Fprintf(w, "  console:    %ssignin (sign in with the owner's e-mail and password)\n", baseURL)
	}
	fmt.Fprintf(w, "  account:    %d (%s, plan %s)\n", res.Account.ID, res.Account.Name, res.Account.Plan)
	fmt.Fprintf(w, "  owner:      %s (user %d)\n", res.User.Email, res.User.ID)
	switch {
	case res.GeneratedPassword != "":
		fmt.Fprintf(w, "  password:   %s\n", res.GeneratedPassword)
	case res.PasswordSet:
		fmt.Fprintln(w, "  password:   set as given (the user existed; their console sessions are signed out)")
	case !res.UserCreated:
		fmt.Fprintln(w, "  password:   unchanged (the user existed)")
	}
	fmt.Fprintf(w, "  owner PAT:  %s\n", res.Token)
}

// newEdge builds the front door both the API and the console stand behind.
func newEdge(cfg serveConfig, log *slog.Logger, tracer trace.Tracer) (*edge.Edge, error) {
	if cfg.oldTrustProxy {
		return nil, errors.New("--trust-proxy-headers is gone: it believed the left-most X-Forwarded-For " +
			"entry, which the client writes. Name the proxies in front of tokend instead: --trusted-proxies CIDR,... " +
			"(see docs/operations.md)")
	}
	proxies, err := edge.ParseProxies(cfg.trustedProxies)
	if err != nil {
		return nil, fmt.Errorf("--trusted-proxies: %w", err)
	}
	front, err := edge.New(edge.Options{Logger: log, TrustedProxies: proxies, PublicURL: cfg.publicURL, Tracer: tracer})
	if err != nil {
		return nil, fmt.Errorf("--public-url: %w", err)
	}
	return front, nil
}
