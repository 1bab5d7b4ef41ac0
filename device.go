package tokend

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"strings"
	"time"
	"unicode"
)

// The device authorization grant (RFC 8628) lets `tokend login` sign in through the browser:
// the CLI gets a device code and shows the user a short user code; the user, signed in to the
// console, approves it for one account; the CLI, polling, receives a PAT named after its machine.

// DeviceState is where a device authorization stands.
type DeviceState string

const (
	DevicePending  DeviceState = "pending"
	DeviceApproved DeviceState = "approved"
	DeviceDenied   DeviceState = "denied"
	DeviceUsed     DeviceState = "used" // the token was issued: a code works once
)

// DeviceAuthorization is one login attempt of a CLI. Neither code is stored, only their
// SHA-256.
type DeviceAuthorization struct {
	ID           int64
	DeviceHash   []byte
	UserCodeHash []byte
	ClientID     string
	// DeviceName is the machine the CLI runs on, as it says; IP and UserAgent are what the
	// server saw. The console shows all three so that the user knows what they approve.
	DeviceName   string
	IP           string
	UserAgent    string
	State        DeviceState
	UserID       UserID    // who approved or denied
	AccountID    AccountID // the account chosen
	TokenID      TokenID   // the PAT issued
	Interval     time.Duration
	LastPolledAt time.Time // zero: never
	CreatedAt    time.Time
	ExpiresAt    time.Time
}

// Device flow settings.
const (
	DeviceCodeLifetime = 10 * time.Minute
	// DeviceTokenLifetime is the CLI token's lifetime, unless the account allows less.
	DeviceTokenLifetime = 90 * 24 * time.Hour
	// DeviceClientID is the one client of the flow.
	DeviceClientID   = "tokend-cli"
	userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ" // no vowels (no words), no look-alikes
	userCodeLen      = 8
	maxDeviceName    = 100
)

// DeviceRequest is a CLI asking to sign in.
type DeviceRequest struct {
	ClientID   string
	DeviceName string
	IP         string
	UserAgent  string
}

// DeviceGrant is the answer to a DeviceRequest: the codes, shown once.
type DeviceGrant struct {
	DeviceCode string
	UserCode   string // formatted XXXX-XXXX
	ExpiresIn  time.Duration
	Interval   time.Duration
}

// StartDeviceAuthorization begins a device login. Callers rate-limit it per address.
func (s *Service) StartDeviceAuthorization(ctx context.Context, in DeviceRequest) (*DeviceGrant, error) {
	if in.ClientID != DeviceClientID {
		return nil, oauthErr(OAuthInvalidClient, "client_id must be %q.", DeviceClientID)
	}
	name := cleanDeviceName(in.DeviceName)
	if name == "" {
		name = "an unnamed machine"
	}
	deviceCode, err := randomCode(s.rand)
	if err != nil {
		return nil, err
	}
	userCode, err := randomUserCode(s.rand)
	if err != nil {
		return nil, err
	}
	now := s.now()
	dh, uh := sha256.Sum256([]byte(deviceCode)), sha256.Sum256([]byte(userCode))
	d := &DeviceAuthorization{DeviceHash: dh[:], UserCodeHash: uh[:], ClientID: in.ClientID, DeviceName: name,
		IP: in.IP, UserAgent: truncate(printable(in.UserAgent), maxUserAgent), State: DevicePending,
		Interval: s.opts.DevicePollInterval, CreatedAt: now, ExpiresAt: now.Add(DeviceCodeLifetime)}
	if err := s.change(ctx, func(st *txn) error { return st.CreateDeviceAuthorization(ctx, d) }); err != nil {
		return nil, err
	}
	return &DeviceGrant{DeviceCode: deviceCode, UserCode: userCode[:4] + "-" + userCode[4:],
		ExpiresIn: DeviceCodeLifetime, Interval: d.Interval}, nil
}

// errNoSuchUserCode answers an unknown, expired or already answered user code alike.
var errNoSuchUserCode = Errorf(ENotFound, "That code is unknown, expired or already used. Run `tokend login` again for a new one.")

// PendingDevice returns the pending device authorization of a user code, for the console to
// show before the user approves it. Callers rate-limit failures per user.
func (s *Service) PendingDevice(ctx context.Context, userCode string) (*DeviceAuthorization, error) {
	code, ok := NormalizeUserCode(userCode)
	if !ok {
		return nil, errNoSuchUserCode
	}
	h := sha256.Sum256([]byte(code))
	d, err := s.store.DeviceAuthorizationByUserHash(ctx, h[:])
	if isNotFound(err) {
		return nil, errNoSuchUserCode
	}
	if err != nil {
		return nil, err
	}
	if d.State != DevicePending || !s.now().Before(d.ExpiresAt) {
		return nil, errNoSuchUserCode
	}
	return d, nil
}

// DecideDevice approves (for accountID) or denies a pending device authorization on behalf of
// the signed-in user userID. Approval needs what a PAT needs: an active membership with a
// license that may hold one.
func (s *Service) DecideDevice(ctx context.Context, userID UserID, accountID AccountID, userCode string, approve bool) (*DeviceAuthorization, error) {
	d, err := s.PendingDevice(ctx, userCode)
	if err != nil {
		return nil, err
	}
	action := "device.deny"
	d.UserID, d.State = userID, DeviceDenied
	if approve {
		p, err := s.SessionPrincipal(ctx, userID, accountID)
		if err != nil {
			if ErrorCode(err) == EUnauthenticated {
				return nil, Errorf(EForbidden, "You are not a member of account %d.", accountID)
			}
			return nil, err
		}
		if !p.License.CanCreatePAT() {
			return nil, Errorf(EForbidden, "Your %s license in this account cannot hold personal access tokens, so the CLI cannot sign in as you here.", p.License)
		}
		action, d.State, d.AccountID = "device.approve", DeviceApproved, accountID
	}
	err = s.change(ctx, func(st *txn) error {
		if err := st.UpdateDeviceAuthorization(ctx, d, DevicePending); err != nil {
			if ErrorCode(err) == EConflict {
				return errNoSuchUserCode
			}
			return err
		}
		if !approve {
			return nil // a denial names no account: nothing to record in one
		}
		e := event(ctx, nil, accountID, action, "device", d.ID)
		e.ActorUserID = userID
		e.Detail = map[string]string{"device_name": d.DeviceName, "device_ip": d.IP, "device_user_agent": d.UserAgent}
		st.audit(e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// PollDevice is the token endpoint's device_code grant. It answers as RFC 8628 §3.5 says:
// authorization_pending until the user decides, slow_down (and a longer interval) to a client
// polling too fast, access_denied, expired_token; once approved, a PAT of the approving user in
// the chosen account, issued once.
func (s *Service) PollDevice(ctx context.Context, clientID, deviceCode string) (*Token, string, *DeviceAuthorization, error) {
	if clientID != DeviceClientID {
		return nil, "", nil, oauthErr(OAuthInvalidClient, "client_id must be %q.", DeviceClientID)
	}
	if deviceCode == "" {
		return nil, "", nil, oauthErr(OAuthInvalidRequest, "device_code is required.")
	}
	h := sha256.Sum256([]byte(deviceCode))
	d, err := s.store.DeviceAuthorizationByDeviceHash(ctx, h[:])
	if isNotFound(err) {
		return nil, "", nil, oauthErr(OAuthInvalidGrant, "The device_code is unknown.")
	}
	if err != nil {
		return nil, "", nil, err
	}
	now := s.now()
	if d.State == DeviceUsed {
		return nil, "", nil, oauthErr(OAuthInvalidGrant, "The device_code was already used.")
	}
	if !now.Before(d.ExpiresAt) {
		return nil, "", nil, oauthErr(OAuthExpiredToken, "The device_code expired; start the login again.")
	}
	switch d.State {
	case DeviceDenied:
		return nil, "", nil, oauthErr(OAuthAccessDenied, "The request was denied in the console.")
	case DevicePending:
		prev := d.LastPolledAt
		d.LastPolledAt = now
		tooFast := !prev.IsZero() && now.Sub(prev) < d.Interval
		if tooFast {
			d.Interval += 5 * time.Second
		}
		err := s.change(ctx, func(st *txn) error { return st.UpdateDeviceAuthorization(ctx, d, DevicePending) })
		if err != nil && ErrorCode(err) != EConflict {
			return nil, "", nil, err
		}
		if tooFast {
			e := oauthErr(OAuthSlowDown, "Polling too fast; wait %d seconds between requests.", int(d.Interval.Seconds()))
			e.Interval = int(d.Interval.Seconds())
			return nil, "", nil, e
		}
		return nil, "", nil, oauthErr(OAuthAuthorizationPending, "Waiting for the user to approve the request in the console.")
	}
	var (
		t   *Token
		raw string
	)
	err = s.change(ctx, func(st *txn) error {
		d.State = DeviceUsed
		if err := st.UpdateDeviceAuthorization(ctx, d, DeviceApproved); err != nil {
			if ErrorCode(err) == EConflict {
				return oauthErr(OAuthInvalidGrant, "The device_code was already used.")
			}
			return err
		}
		acct, err := st.Account(ctx, d.AccountID)
		if err != nil {
			return err
		}
		expires := now.Add(DeviceTokenLifetime)
		if acct.PATMaxLifetime > 0 && acct.PATMaxLifetime < DeviceTokenLifetime {
			expires = now.Add(acct.PATMaxLifetime)
		}
		t, raw, err = s.createPATIn(ctx, st, d.AccountID, d.UserID, PATInput{Name: "tokend CLI on " + d.DeviceName, ExpiresAt: expires}, "",
			map[string]string{"via": "device_authorization", "device_name": d.DeviceName, "device_ip": d.IP})
		if err != nil {
			if c := ErrorCode(err); c == EForbidden || c == ENotFound {
				// The user lost the account or the license since approving.
				return oauthErr(OAuthAccessDenied, "%s", ErrorMessage(err))
			}
			return err
		}
		d.TokenID = t.ID
		return st.UpdateDeviceAuthorization(ctx, d, DeviceUsed)
	})
	if err != nil {
		return nil, "", nil, err
	}
	return t, raw, d, nil
}

// NormalizeUserCode turns what a person typed ("bcdf-ghjk", "BCDF GHJK") into the stored form,
// or reports that it cannot be a user code.
func NormalizeUserCode(in string) (string, bool) {
	var b strings.Builder
	for _, r := range in {
		if r == '-' || unicode.IsSpace(r) {
			continue
		}
		r = unicode.ToUpper(r)
		if !strings.ContainsRune(userCodeAlphabet, r) || b.Len() >= userCodeLen {
			return "", false
		}
		b.WriteRune(r)
	}
	return b.String(), b.Len() == userCodeLen
}

// randomCode returns 256 random bits, base64url.
func randomCode(r io.Reader) (string, error) {
	b := make([]byte, 32)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// randomUserCode returns userCodeLen letters of userCodeAlphabet, uniformly (about 34.6 bits;
// a code lives 10 minutes and guesses are rate-limited).
func randomUserCode(r io.Reader) (string, error) {
	const n = len(userCodeAlphabet)
	limit := byte(256 - 256%n) // reject bytes past the last whole multiple of n
	out := make([]byte, 0, userCodeLen)
	buf := make([]byte, 16)
	for tries := 0; len(out) < userCodeLen; tries++ {
		if tries > 100 {
			return "", Errorf(EInternal, "random source exhausted")
		}
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", err
		}
		for _, c := range buf {
			if c < limit && len(out) < userCodeLen {
				out = append(out, userCodeAlphabet[int(c)%n])
			}
		}
	}
	return string(out), nil
}

// cleanDeviceName keeps what a CLI says about its machine printable and short.
func cleanDeviceName(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return -1
	}, strings.TrimSpace(s))
	return strings.TrimSpace(truncate(s, maxDeviceName))
}

// truncate cuts s to at most n bytes without splitting a character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

// sweepOAuth deletes expired device codes and exchanged-token records.
func (s *Service) sweepOAuth(ctx context.Context, now time.Time) error {
	if _, err := s.store.DeleteExpiredDeviceAuthorizations(ctx, now); err != nil {
		return err
	}
	_, err := s.store.DeleteExpiredSubjectTokens(ctx, now)
	return err
}
