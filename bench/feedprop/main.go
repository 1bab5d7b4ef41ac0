// Command feedprop measures how long a revocation on one node takes to reach another: two
// Services, each with its own connection pool, on one PostgreSQL database (a fresh schema,
// dropped at the end). For each revocation it records the time from A's commit (RevokeLeaked
// returned) to B's first refusal of the token, which B had cached. docs/benchmarks.md has the
// figures.
//
//	go run ./bench/feedprop                      # wake-ups, polling only, stalled link
//	go run ./bench/feedprop -modes notify -n 5000
//
// Modes: notify (LISTEN/NOTIFY wake-ups and the 1 s poll), poll (--feed-poll-only: the poll
// alone, as behind PgBouncer in transaction mode), stall (B's link to PostgreSQL frozen by a
// loopback proxy that stops forwarding without closing, just before each revocation: B must
// stop serving the token within the liveness bound; any refusal counts, 503 included).
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"tokend"
	"tokend/bench/benchfill"
	"tokend/password"
	"tokend/perm"
	"tokend/postgres"
	"tokend/postgres/pgtest"
	"tokend/secret"
)

func main() {
	dbURL := flag.String("database-url", pgtest.ServerURL(), "PostgreSQL server to measure on (a schema is created and dropped)")
	modes := flag.String("modes", "notify,poll,stall", "comma-separated: notify, poll, stall")
	n := flag.Int("n", 1000, "revocations per mode (notify, poll)")
	stallN := flag.Int("stall-n", 10, "revocations with a frozen link (each waits for the liveness bound)")
	every := flag.Duration("every", 5*time.Millisecond, "time between two revocations on A")
	flag.Parse()
	ctx := context.Background()
	for _, mode := range strings.Split(*modes, ",") {
		count := *n
		if mode == "stall" {
			count = *stallN
		}
		lat, err := measure(ctx, *dbURL, mode, count, *every)
		if err != nil {
			fmt.Fprintf(os.Stderr, "feedprop %s: %v\n", mode, err)
			os.Exit(1)
		}
		report(mode, lat)
	}
}

func report(mode string, lat []time.Duration) {
	slices.Sort(lat)
	q := func(p float64) time.Duration {
		i := int(p*float64(len(lat))+0.5) - 1
		return lat[max(0, min(i, len(lat)-1))]
	}
	r := func(d time.Duration) time.Duration { return d.Round(10 * time.Microsecond) }
	fmt.Printf("%-7s n=%-5d min=%-10v p10=%-10v p50=%-10v p90=%-10v p99=%-10v max=%v\n", mode, len(lat),
		r(lat[0]), r(q(0.10)), r(q(0.50)), r(q(0.90)), r(q(0.99)), r(lat[len(lat)-1]))
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// node runs a Service on st until stop is called.
func node(st tokend.Store, opts tokend.Options) (*tokend.Service, func()) {
	opts.Logger = quiet
	opts.PasswordParams = password.Params{Memory: 64, Time: 1, Threads: 1}
	svc := tokend.NewService(st, opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		svc.Run(ctx)
		close(done)
	}()
	return svc, func() { cancel(); <-done }
}

func measure(ctx context.Context, server, mode string, n int, every time.Duration) (lat []time.Duration, err error) {
	u, drop, err := schema(ctx, server)
	if err != nil {
		return nil, err
	}
	defer drop()
	stA, err := postgres.Open(ctx, u)
	if err != nil {
		return nil, err
	}
	defer stA.Close()
	uB := u
	var proxy *pgtest.Proxy
	if mode == "stall" {
		if proxy, err = pgtest.StartProxy(u); err != nil {
			return nil, err
		}
		defer proxy.Close()
		uB = proxy.URL(u)
	}
	stB, err := postgres.Open(ctx, uB)
	if err != nil {
		return nil, err
	}
	defer stB.Close()
	a, stopA := node(stA, tokend.Options{})
	defer stopA()

	res, err := a.Init(ctx, tokend.InitParams{AccountName: "feedprop", Plan: perm.PlanEnterprise,
		Email: "feedprop@example.com", Password: "feedprop password"})
	if err != nil {
		return nil, err
	}
	known := make([]benchfill.Known, n)
	for i := range known {
		raw, uid, err := secret.Generate(rand.Reader, secret.PAT, nil)
		if err != nil {
			return nil, err
		}
		known[i] = benchfill.Known{Raw: raw, UID: uid, Hash: secret.Hash(raw)}
	}
	if err := benchfill.Postgres(ctx, u, res.Account.ID, res.User.ID, known, 0); err != nil {
		return nil, err
	}
	// B starts after the bulk fill, which writes rows behind the Services' backs (no feed
	// entries): its filter of issued tokens is built from the store at start.
	b, stopB := node(stB, tokend.Options{FeedPollOnly: mode == "poll"})
	defer func() {
		if proxy != nil {
			proxy.Thaw()
		}
		stopB()
	}()
	if mode == "stall" {
		return stalled(ctx, a, b, proxy, known)
	}
	for _, k := range known {
		if err := cached(ctx, b, k.Raw); err != nil {
			return nil, err
		}
	}
	return pipeline(ctx, a, b, known, every)
}

// cached verifies raw on b until b's cache answers.
func cached(ctx context.Context, b *tokend.Service, raw string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		before := b.Stats().VerifiedFromCache
		if _, err := b.Authenticate(ctx, raw, "127.0.0.1"); err != nil {
			return fmt.Errorf("warming B: %w", err)
		}
		if b.Stats().VerifiedFromCache > before {
			return nil
		}
		time.Sleep(time.Millisecond)
	}
	return errors.New("warming B: the cache never answered within 30s")
}

// pipeline revokes the tokens on a one every interval while probers on b verify every revoked
// token not yet refused; a token's latency is from a's commit to the start of b's first
// refusing verification. Probers work in parallel, since a refusal reads the store: one
// sequential sweep would charge a token for the store reads of the tokens before it.
func pipeline(ctx context.Context, a, b *tokend.Service, known []benchfill.Known, every time.Duration) ([]time.Duration, error) {
	const probers = 8
	committed := make([]time.Time, len(known))
	queues := make([]chan int, probers)
	for i := range queues {
		queues[i] = make(chan int, len(known))
	}
	failed := make(chan error, probers+1)
	go func() {
		defer func() {
			for _, q := range queues {
				close(q)
			}
		}()
		for i, k := range known {
			if _, err := a.RevokeLeaked(ctx, k.Raw, "127.0.0.1", "feedprop"); err != nil {
				failed <- err
				return
			}
			committed[i] = time.Now()
			queues[i%probers] <- i
			time.Sleep(every)
		}
	}()
	results := make(chan []time.Duration, probers)
	for _, q := range queues {
		go func() {
			var lat []time.Duration
			var outstanding []int
			for open := true; open || len(outstanding) > 0; {
				if len(outstanding) > 0 && time.Since(committed[outstanding[0]]) > time.Minute {
					failed <- fmt.Errorf("token %d still served by B a minute after its revocation", outstanding[0])
					results <- nil
					return
				}
			drain:
				for {
					select {
					case i, ok := <-q:
						if !ok {
							open = false
							break drain
						}
						outstanding = append(outstanding, i)
					default:
						break drain
					}
				}
				outstanding = slices.DeleteFunc(outstanding, func(i int) bool {
					start := time.Now()
					if _, err := b.Authenticate(ctx, known[i].Raw, "127.0.0.1"); err == nil {
						return false
					}
					lat = append(lat, start.Sub(committed[i]))
					return true
				})
				if len(outstanding) == 0 {
					time.Sleep(50 * time.Microsecond)
				}
			}
			results <- lat
		}()
	}
	var lat []time.Duration
	for range probers {
		lat = append(lat, <-results...)
	}
	select {
	case err := <-failed:
		return nil, err
	default:
	}
	return lat, nil
}

// stalled measures, one token at a time, how long b serves a token revoked on a while b's
// link is frozen: b must stop trusting its cache within the liveness bound.
func stalled(ctx context.Context, a, b *tokend.Service, proxy *pgtest.Proxy, known []benchfill.Known) ([]time.Duration, error) {
	var lat []time.Duration
	for _, k := range known {
		proxy.Thaw()
		if err := cached(ctx, b, k.Raw); err != nil {
			return nil, err
		}
		proxy.Freeze()
		if _, err := a.RevokeLeaked(ctx, k.Raw, "127.0.0.1", "feedprop"); err != nil {
			return nil, err
		}
		start := time.Now()
		for {
			if time.Since(start) > time.Minute {
				return nil, errors.New("node B still served the revoked token a minute into the stall")
			}
			pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			_, err := b.Authenticate(pctx, k.Raw, "127.0.0.1")
			cancel()
			if err != nil {
				lat = append(lat, time.Since(start))
				break
			}
			time.Sleep(time.Millisecond)
		}
	}
	proxy.Thaw()
	return lat, nil
}

// schema creates a schema of its own on server and returns the URL that selects it.
func schema(ctx context.Context, server string) (string, func(), error) {
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		return "", nil, err
	}
	name := "tokend_feedprop_" + strings.ToLower(rand.Text()[:10])
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+name); err != nil {
		conn.Close(ctx)
		return "", nil, err
	}
	drop := func() {
		conn.Exec(context.Background(), `DROP SCHEMA `+name+` CASCADE`)
		conn.Close(context.Background())
	}
	pu, err := url.Parse(server)
	if err != nil {
		drop()
		return "", nil, err
	}
	q := pu.Query()
	q.Set("search_path", name)
	pu.RawQuery = q.Encode()
	return pu.String(), drop, nil
}
