package tokend_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"path/filepath"
	"testing"

	"tokend"
	"tokend/password"
	"tokend/perm"
	"tokend/postgres"
	"tokend/postgres/pgtest"
	"tokend/secret"
	"tokend/sqlite"
)

// benchVerify measures Authenticate plus one authorization check: the hot path of every API
// call. "cached" is the steady state; "uncached" pays the database lookups every time.
func benchVerify(b *testing.B, st tokend.Store) {
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		cacheSize int
	}{{"cached", 0}, {"uncached", -1}} {
		b.Run(tc.name, func(b *testing.B) {
			svc := tokend.NewService(st, tokend.Options{CacheSize: tc.cacheSize,
				PasswordParams: password.Params{Memory: 64, Time: 1, Threads: 1}})
			res, err := svc.Init(ctx, tokend.InitParams{AccountName: "bench " + tc.name, Plan: perm.PlanEnterprise,
				Email: fmt.Sprintf("bench-%s@example.com", tc.name), Password: "bench password 123"})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				p, err := svc.Authenticate(ctx, res.Token, "127.0.0.1")
				if err != nil {
					b.Fatal(err)
				}
				if !p.Can(perm.ServiceTokens, perm.Write, 0) {
					b.Fatal("owner cannot write service tokens")
				}
			}
		})
	}
}

func BenchmarkVerifySQLite(b *testing.B) {
	st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	benchVerify(b, st)
}

// BenchmarkVerifyInvalid is the cost of refusing a token with a bad checksum: no database.
func BenchmarkVerifyInvalid(b *testing.B) {
	st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	svc := tokend.NewService(st, tokend.Options{})
	bad := "dbtu_" + "0123456789abcdefghijABCDEFGHIJ0123456789abcdefghij"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := svc.Authenticate(context.Background(), bad, "127.0.0.1"); err == nil {
			b.Fatal("accepted a bad token")
		}
	}
}

func BenchmarkVerifyPostgres(b *testing.B) {
	url := pgtest.SchemaURL(b)
	st, err := postgres.Open(context.Background(), url)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	benchVerify(b, st)
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
	svc := tokend.NewService(st, tokend.Options{CacheSize: -1, PasswordParams: password.Params{Memory: 64, Time: 1, Threads: 1}})
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
		t, err := st.Token(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		t.Hash, t.SlowHash = nil, slow
		if err := st.UpdateToken(ctx, t); err != nil {
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
