package tokend_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"tokend"
	"tokend/bench/benchfill"
	"tokend/httpapi"
	"tokend/password"
	"tokend/perm"
	"tokend/postgres"
	"tokend/postgres/pgtest"
	"tokend/secret"
	"tokend/sqlite"
)

// The benchmarks of the hot path: Authenticate plus the authorization checks a handler makes,
// on each store, with a small and a large number of tokens stored. docs/benchmarks.md has the
// figures and how to read them.
//
//	go test -run '^$' -bench Verify -benchmem .
//	TOKEND_BENCH_TOKENS=1000,1000000 go test -run '^$' -bench Verify .

// benchPATs and benchServiceTokens are how many known tokens of each kind the benchmarks rotate
// through (so that lookups do not all hit one row); the rest of the store is filler rows.
const (
	benchPATs          = 256
	benchServiceTokens = 16
)

// benchSizes is how many tokens the store holds: TOKEND_BENCH_TOKENS (comma-separated), or
// 1,000 and 10,000 so that a plain -bench run stays quick.
func benchSizes(b *testing.B) []int {
	env := os.Getenv("TOKEND_BENCH_TOKENS")
	if env == "" {
		return []int{1_000, 10_000}
	}
	var sizes []int
	for f := range strings.SplitSeq(env, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < benchPATs+benchServiceTokens+1 {
			b.Fatalf("TOKEND_BENCH_TOKENS: got %q, want numbers of at least %d", f, benchPATs+benchServiceTokens+1)
		}
		sizes = append(sizes, n)
	}
	return sizes
}

// fillFunc stores known as PATs of the user and filler more tokens with random hashes, in bulk.
type fillFunc func(ctx context.Context, accountID tokend.AccountID, userID tokend.UserID, known []benchfill.Known, filler int) error

// benchStore opens an empty store and returns it with its bulk filler.
type benchStore func(b *testing.B) (tokend.Store, fillFunc)

func openSQLiteBench(b *testing.B) (tokend.Store, fillFunc) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "bench.db")
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	fill := func(ctx context.Context, accountID tokend.AccountID, userID tokend.UserID, known []benchfill.Known, filler int) error {
		return benchfill.SQLite(ctx, path, accountID, userID, known, filler)
	}
	return st, fill
}

func openPostgresBench(b *testing.B) (tokend.Store, fillFunc) {
	ctx := context.Background()
	url := pgtest.SchemaURL(b)
	st, err := postgres.Open(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	fill := func(ctx context.Context, accountID tokend.AccountID, userID tokend.UserID, known []benchfill.Known, filler int) error {
		return benchfill.Postgres(ctx, url, accountID, userID, known, filler)
	}
	return st, fill
}

// benchData is a seeded account: the token strings to verify and what to authorize against.
type benchData struct {
	accountID, projectID int64
	pats, services       []string
	unknown              []string // valid shape and checksum, not stored
	badChecksum          []string
	malformed            []string
}

// cheap keeps Init's password hashing out of the setup time.
var cheap = password.Params{Memory: 64, Time: 1, Threads: 1}

// seedBench stores an account with an owner, a project, service tokens with grants and PATs,
// and fills the store up to n tokens.
func seedBench(b *testing.B, st tokend.Store, fill fillFunc, n int) *benchData {
	ctx := context.Background()
	svc := tokend.NewService(st, tokend.Options{PasswordParams: cheap})
	res, err := svc.Init(ctx, tokend.InitParams{AccountName: "bench", Plan: perm.PlanEnterprise,
		Email: "bench@example.com", Password: "bench password 123"})
	if err != nil {
		b.Fatal(err)
	}
	owner, err := svc.Authenticate(ctx, res.Token, "127.0.0.1")
	if err != nil {
		b.Fatal(err)
	}
	acct := res.Account.ID
	proj, err := svc.CreateProject(ctx, owner, acct, tokend.ProjectInput{Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	d := &benchData{accountID: int64(acct), projectID: int64(proj.ID)}
	for i := range benchServiceTokens {
		_, raw, err := svc.CreateServiceToken(ctx, owner, acct, tokend.ServiceTokenInput{
			Name: fmt.Sprintf("bench %d", i),
			Grants: []perm.Grant{{Set: perm.JobAdmin, AllProjects: true},
				{Set: perm.Developer, ProjectID: int64(proj.ID)}},
		})
		if err != nil {
			b.Fatal(err)
		}
		d.services = append(d.services, raw)
	}
	known := make([]benchfill.Known, benchPATs)
	for i := range known {
		raw, uid, err := secret.Generate(rand.Reader, secret.PAT, nil)
		if err != nil {
			b.Fatal(err)
		}
		known[i] = benchfill.Known{Raw: raw, UID: uid, Hash: secret.Hash(raw)}
		d.pats = append(d.pats, raw)
	}
	start := time.Now()
	if err := fill(ctx, acct, res.User.ID, known, n-benchPATs-benchServiceTokens-1); err != nil {
		b.Fatal(err)
	}
	b.Logf("stored %d tokens in %v", n, time.Since(start).Round(time.Millisecond))

	for range benchPATs {
		raw, _, err := secret.Generate(rand.Reader, secret.PAT, nil)
		if err != nil {
			b.Fatal(err)
		}
		d.unknown = append(d.unknown, raw)
		last := raw[len(raw)-1]
		flip := byte('0')
		if last == '0' {
			flip = '1'
		}
		d.badChecksum = append(d.badChecksum, raw[:len(raw)-1]+string(flip))
		d.malformed = append(d.malformed, raw[:len(raw)-7]) // a truncated copy-paste
	}
	return d
}

// benchVerify runs every case on one store, for each size.
func benchVerify(b *testing.B, open benchStore) {
	for _, n := range benchSizes(b) {
		b.Run(fmt.Sprintf("tokens=%d", n), func(b *testing.B) {
			st, fill := open(b)
			d := seedBench(b, st, fill, n)
			benchCases(b, st, d)
		})
	}
}

func benchCases(b *testing.B, st tokend.Store, d *benchData) {
	ctx := context.Background()
	cached := tokend.NewService(st, tokend.Options{})
	// The filter of issued tokens, as a running node reads it at start: never-issued tokens
	// are refused from memory. The uncached service has none, so it shows the lookup.
	if err := cached.LoadTokenFilter(ctx); err != nil {
		b.Fatal(err)
	}
	uncached := tokend.NewService(st, tokend.Options{CacheSize: -1})
	// Refusals come from 65,536 addresses, as a flood would, so that the limit on failures
	// per address does not answer in their place.
	addrs := make([]string, 1<<16)
	for i := range addrs {
		addrs[i] = fmt.Sprintf("10.0.%d.%d", i>>8, i&255)
	}
	// refuse is verify of a token that must be refused, from the i-th address.
	refuse := func(svc *tokend.Service, raw string, i int) error {
		_, err := svc.Authenticate(ctx, raw, addrs[i%len(addrs)])
		return err
	}
	// verify is one request's worth: authenticate and the account's IP restrictions, as the
	// API's middleware does, then the two checks a handler makes.
	verify := func(svc *tokend.Service, raw string) error {
		p, err := svc.Authenticate(ctx, raw, "127.0.0.1")
		if err != nil {
			return err
		}
		if err := svc.CheckIP(ctx, p, "127.0.0.1"); err != nil {
			return err
		}
		if err := p.InAccount(tokend.AccountID(d.accountID)); err != nil {
			return err
		}
		if !p.Can(perm.Projects, perm.Read, tokend.ProjectID(d.projectID)) {
			return fmt.Errorf("%s cannot read project %d", p.Kind, d.projectID)
		}
		return nil
	}
	for _, tokens := range [][]string{d.pats, d.services} {
		for _, raw := range tokens {
			if err := verify(cached, raw); err != nil { // warms the cache
				b.Fatal(err)
			}
		}
	}
	valid := []struct {
		name   string
		svc    *tokend.Service
		tokens []string
	}{
		{"pat/cached", cached, d.pats},
		{"pat/uncached", uncached, d.pats},
		{"service/cached", cached, d.services},
		{"service/uncached", uncached, d.services},
	}
	for _, tc := range valid {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if err := verify(tc.svc, tc.tokens[i%len(tc.tokens)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
	b.Run("pat/cached-parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if err := verify(cached, d.pats[i%len(d.pats)]); err != nil {
					b.Error(err)
					return
				}
				i++
			}
		})
	})
	// Refusals, through the caching service: nothing about a refused token is cached.
	invalid := []struct {
		name   string
		tokens []string
	}{
		{"invalid/malformed", d.malformed},
		{"invalid/bad-checksum", d.badChecksum},
		{"invalid/unknown", d.unknown},
	}
	for _, tc := range invalid {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if err := refuse(cached, tc.tokens[i%len(tc.tokens)], i); err != tokend.ErrInvalidToken {
					b.Fatalf("got %v, want ErrInvalidToken", err)
				}
				i++
			}
		})
	}
	// Without the filter: one lookup by hash per token, as before it.
	b.Run("invalid/unknown-lookup", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if err := refuse(uncached, d.unknown[i%len(d.unknown)], i); err != tokend.ErrInvalidToken {
				b.Fatalf("got %v, want ErrInvalidToken", err)
			}
			i++
		}
	})
}

// BenchmarkVerify is verify + authorize, cached and not, for PATs and service tokens, and the
// refusal of malformed, bad-checksum and unknown tokens, on both stores and at each size.
func BenchmarkVerify(b *testing.B) {
	b.Run("store=sqlite", func(b *testing.B) { benchVerify(b, openSQLiteBench) })
	b.Run("store=postgres", func(b *testing.B) { benchVerify(b, openPostgresBench) })
}

// BenchmarkVerifyOldFormat is an imported old-format service token verified through its salted
// PBKDF2 hash (before: every iteration puts the slow hash back) and after its first use has
// upgraded it to the SHA-256 lookup (after, with the cache off so the lookup is measured).
func BenchmarkVerifyOldFormat(b *testing.B) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	svc := tokend.NewService(st, tokend.Options{CacheSize: -1, PasswordParams: cheap})
	res, err := svc.Init(ctx, tokend.InitParams{AccountName: "old", Plan: perm.PlanEnterprise, Email: "old@example.com", Password: "bench password 123"})
	if err != nil {
		b.Fatal(err)
	}
	tok := "dbtc_OldBench1_0123456789abcdefghij"
	slow, err := secret.SlowHash(rand.Reader, tok, secret.DefaultIterations)
	if err != nil {
		b.Fatal(err)
	}
	imported, err := svc.ImportServiceTokens(ctx, []tokend.ImportedToken{{AccountID: res.Account.ID, UID: "OldBench1",
		SlowHash: slow, Name: "old", Grants: []perm.Grant{{Set: perm.JobAdmin, AllProjects: true}}}})
	if err != nil {
		b.Fatal(err)
	}
	id := imported[0].ID
	reset := func() {
		t, err := st.TokenUnscoped(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		t.Hash, t.SlowHash = nil, slow
		if err := st.UpdateToken(ctx, t.AccountID, t); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("before-upgrade", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			b.StopTimer()
			reset()
			b.StartTimer()
			if _, err := svc.Authenticate(ctx, tok, "127.0.0.1"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("after-upgrade", func(b *testing.B) {
		if _, err := svc.Authenticate(ctx, tok, "127.0.0.1"); err != nil { // upgrades
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := svc.Authenticate(ctx, tok, "127.0.0.1"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkHTTP is one request through the API's handler and middleware, without a network:
// what the server spends per request besides the socket, on each store. /healthz is the floor;
// the account endpoint adds authentication (cached) and one read of the account row; the
// projects list (20 projects, as in bench/http.sh) adds the list's read and its encoding.
func BenchmarkHTTP(b *testing.B) {
	b.Run("store=sqlite", func(b *testing.B) { benchHTTP(b, openSQLiteBench) })
	b.Run("store=postgres", func(b *testing.B) { benchHTTP(b, openPostgresBench) })
}

// benchHTTPProjects is how many projects the benchmarked account holds.
const benchHTTPProjects = 20

func benchHTTP(b *testing.B, open benchStore) {
	st, fill := open(b)
	d := seedBench(b, st, fill, benchPATs+benchServiceTokens+1)
	svc := tokend.NewService(st, tokend.Options{})
	owner, err := svc.Authenticate(context.Background(), d.pats[0], "127.0.0.1")
	if err != nil {
		b.Fatal(err)
	}
	for i := 1; i < benchHTTPProjects; i++ { // seedBench made the first
		if _, err := svc.CreateProject(context.Background(), owner, tokend.AccountID(d.accountID),
			tokend.ProjectInput{Name: fmt.Sprintf("project %02d", i)}); err != nil {
			b.Fatal(err)
		}
	}
	// The filter of issued tokens, as a node reads it at start: a forged token is refused from
	// memory.
	if err := svc.LoadTokenFilter(context.Background()); err != nil {
		b.Fatal(err)
	}
	h := httpapi.New(svc, httpapi.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}).Handler()
	account := fmt.Sprintf("/api/v3/accounts/%d/", d.accountID)
	for _, tc := range []struct {
		name, path, token string
		want              int
	}{
		{"healthz", "/healthz", "", http.StatusOK},
		{"account/pat", account, d.pats[0], http.StatusOK},
		{"account/service", account, d.services[0], http.StatusOK},
		{"projects/pat", account + "projects/", d.pats[0], http.StatusOK},
		{"account/bad-checksum", account, d.badChecksum[0], http.StatusUnauthorized},
		{"account/forged", account, forgedToken(b), http.StatusUnauthorized},
	} {
		b.Run(tc.name, func(b *testing.B) {
			// Rotating over 65,536 addresses keeps the failure limiter (50 failures per address)
			// from answering 429.
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				r := httptest.NewRequest(http.MethodGet, tc.path, nil)
				r.RemoteAddr = fmt.Sprintf("10.0.%d.%d:1234", i>>8&255, i&255)
				if tc.token != "" {
					r.Header.Set("Authorization", "Bearer "+tc.token)
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != tc.want {
					b.Fatalf("%s: got %d, want %d", tc.path, w.Code, tc.want)
				}
				i++
			}
		})
	}
}

// BenchmarkRefuseUnknown refuses unknown well-formed tokens on a running node (one that reads
// the change feed, as a server does), from 65,536 addresses: tagged with another key than the
// store's (forged), and untagged, before the seal (PostgreSQL: each waits for a read of the
// feed) and after it.
func BenchmarkRefuseUnknown(b *testing.B) {
	stores := []struct {
		name string
		open func(b *testing.B) tokend.Store
	}{
		{"sqlite", func(b *testing.B) tokend.Store { st, _ := openSQLiteBench(b); return st }},
		{"postgres", func(b *testing.B) tokend.Store { st, _ := openPostgresBench(b); return st }},
	}
	addrs := make([]string, 1<<16)
	for i := range addrs {
		addrs[i] = fmt.Sprintf("10.0.%d.%d", i>>8, i&255)
	}
	for _, s := range stores {
		b.Run("store="+s.name, func(b *testing.B) {
			st := s.open(b)
			svc := startNode(b, st, tokend.Options{})
			forged := make([]string, 1000)
			untagged := make([]string, 1000)
			for i := range forged {
				forged[i] = forgedToken(b)
				raw, _, err := secret.Generate(rand.Reader, secret.PAT, nil)
				if err != nil {
					b.Fatal(err)
				}
				untagged[i] = raw
			}
			filterReady(b, svc, forged[0])
			run := func(name string, tokens []string) {
				b.Run(name, func(b *testing.B) {
					b.ReportAllocs()
					waits := svc.Stats().FilterWaits
					i := 0
					for b.Loop() {
						if _, err := svc.Authenticate(b.Context(), tokens[i%len(tokens)], addrs[i%len(addrs)]); err != tokend.ErrInvalidToken {
							b.Fatalf("got %v, want ErrInvalidToken", err)
						}
						i++
					}
					b.ReportMetric(float64(svc.Stats().FilterWaits-waits)/float64(b.N), "waits/op")
				})
			}
			run("forged-tagged", forged)
			if !svc.Stats().UntaggedSealed {
				run("untagged-before-seal", untagged)
				if err := svc.SealUntaggedTokens(b.Context()); err != nil {
					b.Fatal(err)
				}
			}
			run("untagged-sealed", untagged)
		})
	}
}
