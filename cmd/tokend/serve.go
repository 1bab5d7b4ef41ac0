package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"tokend"
	"tokend/console"
	"tokend/httpapi"
	"tokend/perm"
)

func newServeCmd() *cobra.Command {
	var (
		sf                   storageFlags
		addr                 string
		logFormat, logLevel  string
		trustProxy           bool
		flushEvery, cacheTTL time.Duration
		cacheSize            int
		pprofAddr            string
		metricsAddr          string
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the API server",
		Long: `serve runs the API. Migrations run at start. On an empty database it bootstraps an
account, its owner and an owner token, and prints them once.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(cmd); err != nil {
				return err
			}
			log, err := newLogger(cmd.ErrOrStderr(), logFormat, logLevel)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			st, kind, err := sf.open(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			svc := tokend.NewService(st, tokend.Options{
				Logger: log, CacheSize: cacheSize, CacheTTL: cacheTTL, UsageFlushInterval: flushEvery,
			})

			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return err
			}
			baseURL := "http://" + ln.Addr().String() + "/"
			if err := bootstrap(ctx, svc, st, cmd.OutOrStdout(), baseURL); err != nil {
				ln.Close()
				return err
			}

			var mln net.Listener
			if metricsAddr != "" {
				if mln, err = net.Listen("tcp", metricsAddr); err != nil {
					ln.Close()
					return fmt.Errorf("--metrics-addr: %w", err)
				}
				defer mln.Close()
			}
			if pprofAddr != "" {
				pln, err := listenPprof(pprofAddr)
				if err != nil {
					ln.Close()
					return err
				}
				defer pln.Close()
				go http.Serve(pln, pprofMux())
			}

			api := httpapi.New(svc, httpapi.Options{
				Logger: log, TrustProxyHeaders: trustProxy, Version: version,
				Ready: func(r *http.Request) error { return st.Ping(r.Context()) },
			})
			if mln != nil {
				metrics := http.NewServeMux()
				metrics.Handle("GET /metrics", api.MetricsHandler())
				go (&http.Server{Handler: metrics, ReadHeaderTimeout: 5 * time.Second}).Serve(mln)
				log.Info("serving metrics", "addr", mln.Addr().String())
			}
			// The API keeps /api/ and the probes; the web console serves everything else.
			apiHandler := api.Handler()
			web := http.NewServeMux()
			web.Handle("/api/", apiHandler)
			web.Handle("/healthz", apiHandler)
			web.Handle("/readyz", apiHandler)
			web.Handle("/", console.New(svc, console.Options{
				Logger: log, TrustProxyHeaders: trustProxy, RouteNeeds: httpapi.RouteNeeds(),
			}).Handler())
			srv := &http.Server{
				Handler:           web,
				ReadHeaderTimeout: 5 * time.Second,
				ReadTimeout:       30 * time.Second,
				WriteTimeout:      30 * time.Second,
				IdleTimeout:       120 * time.Second,
				MaxHeaderBytes:    64 << 10,
			}
			bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
			bgDone := make(chan error, 1)
			go func() { bgDone <- svc.Run(bg) }()

			log.Info("serving", "addr", ln.Addr().String(), "store", kind, "version", version, "console", baseURL)
			serveErr := make(chan error, 1)
			go func() { serveErr <- srv.Serve(ln) }()

			select {
			case err := <-serveErr:
				stopBG()
				<-bgDone
				return err
			case <-ctx.Done():
			}
			log.Info("shutting down")
			shutCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			err = srv.Shutdown(shutCtx)
			stopBG()
			if ferr := <-bgDone; ferr != nil {
				log.Error("final flush of token uses", "err", ferr)
			}
			if err != nil && !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
	sf.register(cmd.Flags())
	f := cmd.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on")
	f.StringVar(&logFormat, "log-format", "text", "log format: text or json")
	f.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn, error")
	f.BoolVar(&trustProxy, "trust-proxy-headers", false, "take the client address from X-Forwarded-For")
	f.DurationVar(&flushEvery, "usage-flush-interval", 15*time.Second, "how often last-used times are written")
	f.DurationVar(&cacheTTL, "cache-ttl", 5*time.Minute, "longest life of a cached verification (invalidation is immediate)")
	f.IntVar(&cacheSize, "cache-size", 100_000, "verified tokens kept in memory")
	// For docs/benchmarks.md: profiles of a running server, on loopback only.
	f.StringVar(&pprofAddr, "pprof-addr", "", "serve net/http/pprof on this loopback address")
	f.StringVar(&metricsAddr, "metrics-addr", "", "serve Prometheus metrics at /metrics on this address (keep it internal)")
	_ = f.MarkHidden("pprof-addr")
	return cmd
}

// listenPprof listens on addr, which must be a loopback address: profiles reveal memory.
func listenPprof(addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("--pprof-addr: got %q, want a loopback address such as 127.0.0.1:6060", addr)
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

// bootstrap initialises an empty database with generated values and prints them once.
func bootstrap(ctx context.Context, svc *tokend.Service, st tokend.Store, out io.Writer, baseURL string) error {
	n, err := st.CountAccounts(ctx)
	if err != nil || n > 0 {
		return err
	}
	host, _ := os.Hostname()
	if host == "" {
		host = "localhost"
	}
	res, err := svc.Init(ctx, tokend.InitParams{
		AccountName: "Default", Plan: perm.PlanEnterprise, Email: "owner@" + hostDomain(host),
	})
	if err != nil {
		return fmt.Errorf("bootstrap: %w", operatorError(err))
	}
	printInit(out, baseURL, res)
	return nil
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
	if res.GeneratedPassword != "" {
		fmt.Fprintf(w, "  password:   %s\n", res.GeneratedPassword)
	}
	fmt.Fprintf(w, "  owner PAT:  %s\n", res.Token)
}
