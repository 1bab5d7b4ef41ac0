package tokend_test

import (
	"errors"
	"testing"
	"time"

	"tokend"
	"tokend/postgres/pgtest"
)

// A reuse seen on node A revokes the rotation chain on every node: node B, which had the
// chain's live token cached, refuses it once it reads the change feed.
func TestReuseRevokesTheChainOnEveryNode(t *testing.T) {
	u := pgtest.SchemaURL(t)
	a := startNode(t, openPostgres(t, u), tokend.Options{})
	b := startNode(t, openPostgres(t, u), tokend.Options{})
	ctx := t.Context()
	owner := ownerToken(t, a)
	p, err := a.Authenticate(ctx, owner, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	on := true
	if _, err := a.UpdateAccount(ctx, p, p.AccountID, tokend.AccountUpdate{ReuseRevokesChain: &on}); err != nil {
		t.Fatal(err)
	}
	old, oldRaw, err := a.CreatePAT(ctx, p, p.AccountID, p.UserID, tokend.PATInput{Name: "laptop"})
	if err != nil {
		t.Fatal(err)
	}
	_, liveRaw, err := a.RotatePAT(ctx, p, p.AccountID, p.UserID, old.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	warm(t, b, liveRaw)
	if _, err := a.Authenticate(ctx, oldRaw, "127.0.0.1"); !errors.Is(err, tokend.ErrInvalidToken) {
		t.Fatalf("the reuse on A: got %v, want %v", err, tokend.ErrInvalidToken)
	}
	if _, err := a.Authenticate(ctx, liveRaw, "127.0.0.1"); !errors.Is(err, tokend.ErrInvalidToken) {
		t.Errorf("the live token on A after the reuse: got %v, want %v", err, tokend.ErrInvalidToken)
	}
	took, err := refusedWithin(t, b, liveRaw, 5*time.Second)
	if !errors.Is(err, tokend.ErrInvalidToken) {
		t.Errorf("B's answer to the live token: got %v, want %v", err, tokend.ErrInvalidToken)
	}
	t.Logf("B refused the chain's live token %v after the reuse on A", took)
	if _, err := b.Authenticate(ctx, owner, "127.0.0.1"); err != nil {
		t.Errorf("the owner's PAT, outside the chain, on B: got %v, want it to work", err)
	}
}
