package tokend_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"tokend"
	"tokend/password"
	"tokend/perm"
	"tokend/postgres"
	"tokend/postgres/pgtest"
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
