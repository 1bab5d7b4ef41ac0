// Command seed fills an empty tokend database with a data set for bench/http.sh and
// bench/mem: accounts, users, groups, projects, service tokens and personal access tokens, and
// as many filler tokens as asked for, inserted in bulk. It writes the token strings the
// benchmarks present into files in -out. Stored tokens are tagged with the database's key, as
// tokend mints them; unknown tokens are tagged with another key, as anyone without the
// database's would make them ("unknown"), or untagged ("unknown-untagged").
//
//	go run ./bench/seed -sqlite DIR/tokend.db -tokens 1000000 -out DIR
//	go run ./bench/seed -postgres postgres://postgres@127.0.0.1:5432/bench -tokens 1000000 -out DIR
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"tokend"
	"tokend/bench/benchfill"
	"tokend/perm"
	"tokend/postgres"
	"tokend/secret"
	"tokend/sqlite"
)

func main() {
	var (
		sqlitePath  = flag.String("sqlite", "", "SQLite database file to create")
		postgresURL = flag.String("postgres", "", "PostgreSQL database URL (an empty database)")
		tokens      = flag.Int("tokens", 1_000_000, "tokens stored in all")
		known       = flag.Int("known", 1_000, "PATs whose strings are written to OUT/pats (bench/mem uses them)")
		accounts    = flag.Int("accounts", 10, "accounts besides the benchmarked one")
		out         = flag.String("out", ".", "directory for the token files")
	)
	flag.Parse()
	if (*sqlitePath == "") == (*postgresURL == "") {
		log.Fatal("seed: give exactly one of -sqlite and -postgres")
	}
	if err := run(context.Background(), *sqlitePath, *postgresURL, *tokens, *known, *accounts, *out); err != nil {
		log.Fatal("seed: ", err)
	}
}

// Sizes of the benchmarked account.
const (
	projects      = 20
	users         = 50
	serviceTokens = 10
	badTokens     = 999
)

func run(ctx context.Context, sqlitePath, postgresURL string, total, known, accounts int, out string) error {
	start := time.Now()
	var (
		st   tokend.Store
		fill fillFunc
		err  error
	)
	if sqlitePath != "" {
		st, fill, err = openSQLite(ctx, sqlitePath)
	} else {
		st, fill, err = openPostgres(ctx, postgresURL)
	}
	if err != nil {
		return err
	}
	defer st.Close()
	if n, err := st.CountAccounts(ctx); err != nil || n > 0 {
		return errors.Join(err, errors.New("the database is not empty"))
	}
	svc := tokend.NewService(st, tokend.Options{})
	tags, err := st.TokenTags(ctx)
	if err != nil {
		return err
	}
	key, err := secret.NewTagKey(tags.Key)
	if err != nil {
		return err
	}

	res, err := svc.Init(ctx, tokend.InitParams{AccountName: "Bench", Plan: perm.PlanEnterprise, Email: "owner@bench.example"})
	if err != nil {
		return err
	}
	owner, err := svc.Authenticate(ctx, res.Token, "127.0.0.1")
	if err != nil {
		return err
	}
	acct := res.Account.ID
	var projectIDs []int64
	for i := range projects {
		p, err := svc.CreateProject(ctx, owner, acct, tokend.ProjectInput{Name: fmt.Sprintf("project %02d", i)})
		if err != nil {
			return err
		}
		projectIDs = append(projectIDs, int64(p.ID))
	}
	// Developers: a group with developer rights in five projects and job admin in all.
	eng, err := svc.CreateGroup(ctx, owner, acct, tokend.GroupInput{Name: "Engineers"})
	if err != nil {
		return err
	}
	grants := []perm.Grant{{Set: perm.JobAdmin, AllProjects: true}}
	for _, id := range projectIDs[:5] {
		grants = append(grants, perm.Grant{Set: perm.Developer, ProjectID: id})
	}
	if _, err := svc.SetGroupPermissions(ctx, owner, acct, eng.ID, grants); err != nil {
		return err
	}
	var dev tokend.UserID
	for i := range users {
		m, _, err := svc.AddUser(ctx, owner, acct, tokend.AddUserInput{Email: fmt.Sprintf("dev%02d@bench.example", i),
			FirstName: "Dev", LastName: strconv.Itoa(i)})
		if err != nil {
			return err
		}
		if m == nil {
			return fmt.Errorf("dev%02d@bench.example has a user elsewhere; seed an empty database", i)
		}
		if _, err := svc.AssignGroups(ctx, owner, acct, m.User.ID, []tokend.GroupID{eng.ID}); err != nil {
			return err
		}
		if dev == 0 {
			dev = m.User.ID
		}
	}
	var service string
	for i := range serviceTokens {
		_, raw, err := svc.CreateServiceToken(ctx, owner, acct, tokend.ServiceTokenInput{Name: fmt.Sprintf("pipeline %d", i),
			Grants: []perm.Grant{{Set: perm.JobAdmin, AllProjects: true}, {Set: perm.Developer, ProjectID: projectIDs[i]}}})
		if err != nil {
			return err
		}
		if service == "" {
			service = raw
		}
	}
	for i := range accounts {
		if _, err := svc.Init(ctx, tokend.InitParams{AccountName: fmt.Sprintf("Other %d", i), Plan: perm.PlanTeam,
			Email: fmt.Sprintf("owner%d@other.example", i)}); err != nil {
			return err
		}
	}

	// The PATs of the first developer, stored in bulk with the filler.
	pats := make([]benchfill.Known, max(known, 1))
	for i := range pats {
		raw, uid, err := secret.Generate(rand.Reader, secret.PAT, key)
		if err != nil {
			return err
		}
		pats[i] = benchfill.Known{Raw: raw, UID: uid, Hash: secret.Hash(raw)}
	}
	filler := total - len(pats) - serviceTokens - 1 - accounts
	if filler < 0 {
		return fmt.Errorf("-tokens %d is fewer than the %d known tokens", total, total-filler)
	}
	t0 := time.Now()
	if err := fill(ctx, acct, dev, pats, filler); err != nil {
		return err
	}
	log.Printf("seed: %d tokens stored (%d filler in %v)", total, filler, time.Since(t0).Round(time.Millisecond))

	if err := os.MkdirAll(out, 0o700); err != nil {
		return err
	}
	lines := make([]string, len(pats))
	for i, t := range pats {
		lines[i] = t.Raw
	}
	bad, unknown, untagged, err := badTokenLists()
	if err != nil {
		return err
	}
	for name, content := range map[string]string{
		"account":          strconv.FormatInt(int64(acct), 10),
		"pat":              pats[0].Raw,
		"service":          service,
		"pats":             strings.Join(lines, "\n"),
		"bad":              strings.Join(bad, "\n"),
		"unknown":          strings.Join(unknown, "\n"),
		"unknown-untagged": strings.Join(untagged, "\n"),
	} {
		if err := os.WriteFile(filepath.Join(out, name), []byte(content+"\n"), 0o600); err != nil {
			return err
		}
	}
	log.Printf("seed: done in %v", time.Since(start).Round(time.Millisecond))
	return nil
}

// badTokenLists returns what a broken client or an attacker sends. bad holds, in equal parts,
// malformed strings, well-formed tokens with a wrong checksum, and well-formed tokens with a
// right checksum that no one was ever given; unknown holds only the last kind, the dearest to
// refuse. They are tagged with a key of their own, not the database's, as an attacker would
// make them; untagged holds unknown tokens of the shape before tags.
func badTokenLists() (bad, unknown, untagged []string, err error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, nil, nil, err
	}
	forger, err := secret.NewTagKey(b[:])
	if err != nil {
		return nil, nil, nil, err
	}
	for i := range badTokens {
		raw, _, err := secret.Generate(rand.Reader, secret.PAT, forger)
		if err != nil {
			return nil, nil, nil, err
		}
		switch i % 3 {
		case 0:
			bad = append(bad, raw[:len(raw)-7]) // truncated
		case 1:
			flip := byte('0')
			if raw[len(raw)-1] == '0' {
				flip = '1'
			}
			bad = append(bad, raw[:len(raw)-1]+string(flip))
		case 2:
			bad = append(bad, raw)
		}
		other, _, err := secret.Generate(rand.Reader, secret.PAT, forger)
		if err != nil {
			return nil, nil, nil, err
		}
		unknown = append(unknown, other)
		old, _, err := secret.Generate(rand.Reader, secret.PAT, nil)
		if err != nil {
			return nil, nil, nil, err
		}
		untagged = append(untagged, old)
	}
	return bad, unknown, untagged, nil
}

// fillFunc stores known as PATs of the user and filler more tokens with random hashes, in bulk.
type fillFunc func(ctx context.Context, accountID tokend.AccountID, userID tokend.UserID, known []benchfill.Known, filler int) error

func openSQLite(ctx context.Context, path string) (tokend.Store, fillFunc, error) {
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, nil, err
	}
	fill := func(ctx context.Context, accountID tokend.AccountID, userID tokend.UserID, known []benchfill.Known, filler int) error {
		return benchfill.SQLite(ctx, path, accountID, userID, known, filler)
	}
	return st, fill, nil
}

func openPostgres(ctx context.Context, url string) (tokend.Store, fillFunc, error) {
	st, err := postgres.Open(ctx, url)
	if err != nil {
		return nil, nil, err
	}
	fill := func(ctx context.Context, accountID tokend.AccountID, userID tokend.UserID, known []benchfill.Known, filler int) error {
		return benchfill.Postgres(ctx, url, accountID, userID, known, filler)
	}
	return st, fill, nil
}
