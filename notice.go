package tokend

import (
	"context"
	"hash/maphash"
	"strconv"
	"time"
)

// Notices are the token events that no request makes: a token about to expire or expired
// (found by a sweep of every node, each sent once thanks to a unique (token, event, threshold)
// record), and a token used from an address never seen for it (found when this node's uses
// are flushed, each address once thanks to a unique (token, address) record). Each is an
// audit event and, through it, a webhook message (outbox.go).

// ExpiryThresholds are the days before its expiry at which a token.expiring is sent.
var ExpiryThresholds = []int{30, 7, 1}

// expiredLookback bounds how long after its expiry a token.expired is still sent: a node that
// was down for a while, or a first start with this feature, does not report ancient expiries.
const expiredLookback = 7 * 24 * time.Hour

// NoticeFilter selects tokens that a notice is due for: active, enabled PATs and service tokens
// (not federated: those live minutes) of active accounts, whose expiry is after ExpiresAfter
// and at or before ExpiresBy, whose lifetime is longer than MinLifetime, and that have no
// notice (Event, Threshold) yet; by expiry, then id; at most Limit.
type NoticeFilter struct {
	Event        string
	Threshold    int // days before expiry; 0 for token.expired
	ExpiresAfter time.Time
	ExpiresBy    time.Time
	MinLifetime  time.Duration
	Limit        int
}

// TokenAddress is an address a token was used from, first seen at FirstSeen.
type TokenAddress struct {
	TokenID   TokenID
	AccountID AccountID
	IP        string
	FirstSeen time.Time
}

// noteAddress folds p's use from ip for token.new_ip: nothing when ip is the address of the
// principal's last use, else the recorder's lookup. The principal keeps a 64-bit keyed hash of
// that address rather than the address: 8 bytes inside it and no allocation when it changes.
// An address that hashes as the last one did (or as zero, "none yet"), a chance of 2⁻⁶⁴ per
// change under a seed no client knows, would have its token.new_ip wait until the token is
// used from it again after another address.
func (s *Service) noteAddress(p *Principal, ip string, at time.Time) {
	if ip == "" || (p.Kind != KindPAT && p.Kind != KindService) {
		return
	}
	h := maphash.String(s.addrSeed, ip)
	if p.lastIP.Load() == h {
		return
	}
	p.lastIP.Store(h)
	s.usage.recordAddress(p.TokenID, p.AccountID, ip, at)
}

// NotifyExpiry records a token.expiring for each token that has come within a threshold of
// its expiry (the nearest threshold only, and none crossed before it was created: a token made
// to live 5 days hears of its expiry 1 day before, not 30 or 7) and a token.expired for each
// token that expired in the last week, once each across nodes and restarts. Run calls it every
// hour; it returns how many it recorded.
func (s *Service) NotifyExpiry(ctx context.Context) (int, error) {
	const batch, maxBatches = 500, 100
	now := s.now()
	var filters []NoticeFilter
	for i, days := range ExpiryThresholds {
		within := time.Duration(days) * 24 * time.Hour
		f := NoticeFilter{Event: EventTokenExpiring, Threshold: days, ExpiresAfter: now, ExpiresBy: now.Add(within),
			MinLifetime: within, Limit: batch}
		if i+1 < len(ExpiryThresholds) {
			// The nearest threshold only: one closer than the next is the next's to send.
			f.ExpiresAfter = now.Add(time.Duration(ExpiryThresholds[i+1]) * 24 * time.Hour)
		}
		filters = append(filters, f)
	}
	filters = append(filters, NoticeFilter{Event: EventTokenExpired, ExpiresAfter: now.Add(-expiredLookback), ExpiresBy: now, Limit: batch})
	n := 0
	for _, f := range filters {
		for range maxBatches {
			ts, err := s.store.TokensForNotice(ctx, f)
			if err != nil {
				return n, err
			}
			for _, t := range ts {
				sent, err := s.notice(ctx, t, f.Event, f.Threshold, now)
				if err != nil {
					return n, err
				}
				if sent {
					n++
				}
			}
			if len(ts) < f.Limit {
				break
			}
		}
	}
	return n, nil
}

// notice records event for t, once: the unique notice record and the audit event share a
// change, so that a concurrent sweep on another node records nothing.
func (s *Service) notice(ctx context.Context, t *Token, ev string, threshold int, now time.Time) (bool, error) {
	sent := false
	err := s.change(ctx, func(st *txn) error {
		ok, err := st.AddTokenNotice(ctx, t.ID, ev, threshold, now)
		if err != nil || !ok {
			return err
		}
		e := event(ctx, nil, t.AccountID, ev, string(t.Kind), t.ID)
		e.ActorUserID = t.UserID
		e.Detail = map[string]string{"uid": t.UID, "name": t.Name, "expires_at": t.ExpiresAt.UTC().Format(time.RFC3339)}
		if ev == EventTokenExpiring {
			e.Detail["days"] = strconv.Itoa(threshold)
		}
		st.audit(e)
		sent = true
		return nil
	})
	return sent, err
}

// flushAddresses stores the addresses tokens were used from since the last flush; each
// address new for its token is a token.new_ip, in the same transaction.
func (s *Service) flushAddresses(ctx context.Context) error {
	batch := s.usage.takeAddrs()
	if len(batch) == 0 {
		return nil
	}
	err := s.change(ctx, func(st *txn) error {
		fresh, err := st.AddTokenAddresses(ctx, batch)
		if err != nil {
			return err
		}
		for _, a := range fresh {
			t, err := st.Token(ctx, a.AccountID, a.TokenID)
			if isNotFound(err) {
				continue
			}
			if err != nil {
				return err
			}
			e := event(ctx, nil, a.AccountID, EventTokenNewIP, string(t.Kind), t.ID)
			e.ActorUserID, e.ActorToken, e.IP, e.CreatedAt = t.UserID, t.UID, a.IP, a.FirstSeen
			e.Detail = map[string]string{"uid": t.UID, "name": t.Name, "ip": a.IP}
			st.audit(e)
		}
		return nil
	})
	s.usage.settleAddrs(batch, err == nil)
	return err
}
