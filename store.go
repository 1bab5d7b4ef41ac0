package tokend

import (
	"context"
	"time"

	"tokend/perm"
)

// Store is the persistence Service needs. Implementations hold SQL and no rules; they return
// *Error with ENotFound for a missing row and EConflict for a broken unique constraint.
// Lookups scoped by account take the account id so that one account's id can never reach
// another's object.
type Store interface {
	// Tx runs fn in one transaction; the Store passed to fn is bound to it. fn's error rolls back.
	Tx(ctx context.Context, fn func(Store) error) error
	Ping(ctx context.Context) error
	Close() error

	CreateAccount(ctx context.Context, a *Account) error
	Account(ctx context.Context, id AccountID) (*Account, error)
	UpdateAccount(ctx context.Context, a *Account) error
	CountAccounts(ctx context.Context) (int, error)
	// AccountsOfUser returns the active accounts where the user has an active membership.
	AccountsOfUser(ctx context.Context, userID UserID) ([]*Account, error)

	CreateUser(ctx context.Context, u *User) error
	User(ctx context.Context, id UserID) (*User, error)
	UserByEmail(ctx context.Context, email string) (*User, error)
	UpdateUser(ctx context.Context, u *User) error

	CreateMembership(ctx context.Context, m *Membership) error
	Membership(ctx context.Context, accountID AccountID, userID UserID) (*Membership, error)
	MembershipByID(ctx context.Context, accountID AccountID, id MembershipID) (*Membership, error)
	UpdateMembership(ctx context.Context, m *Membership) error
	ListMemberships(ctx context.Context, f MembershipFilter) ([]*Membership, int, error)
	MembershipsOfUser(ctx context.Context, userID UserID) ([]*Membership, error)

	CreateProject(ctx context.Context, p *Project) error
	Project(ctx context.Context, accountID AccountID, id ProjectID) (*Project, error)
	UpdateProject(ctx context.Context, p *Project) error
	ListProjects(ctx context.Context, f ProjectFilter) ([]*Project, int, error)

	// Groups are returned with their active permissions.
	CreateGroup(ctx context.Context, g *Group) error
	Group(ctx context.Context, accountID AccountID, id GroupID) (*Group, error)
	UpdateGroup(ctx context.Context, g *Group) error
	ListGroups(ctx context.Context, f GroupFilter) ([]*Group, int, error)
	// SetGroupPermissions replaces the group's grants with grants.
	SetGroupPermissions(ctx context.Context, accountID AccountID, groupID GroupID, grants []perm.Grant) error
	// SetUserGroups makes groupIDs the user's exact set of groups in the account.
	SetUserGroups(ctx context.Context, accountID AccountID, userID UserID, groupIDs []GroupID) error
	// GroupsOfUser returns the user's active groups in the account.
	GroupsOfUser(ctx context.Context, accountID AccountID, userID UserID) ([]*Group, error)

	// Tokens are returned with their active permissions (service tokens).
	CreateToken(ctx context.Context, t *Token) error
	// Token reads a token of the account: another account's token is not found, so a caller
	// cannot forget the account boundary.
	Token(ctx context.Context, accountID AccountID, id TokenID) (*Token, error)
	// TokenUnscoped reads a token whatever its account, for the readers that act for no account
	// (the change feed) or for tokens that have none (legacy keys). Anything serving an account
	// reads through Token.
	TokenUnscoped(ctx context.Context, id TokenID) (*Token, error)
	TokenByHash(ctx context.Context, hash []byte) (*Token, error)
	// TokenByUID reads the account's token with that uid; another account's is not found.
	TokenByUID(ctx context.Context, accountID AccountID, uid string) (*Token, error)
	// TokenByUIDUnscoped reads a token by uid whatever its account, for authentication, which
	// learns the account from the token it finds (an old-format token names only its uid).
	TokenByUIDUnscoped(ctx context.Context, uid string) (*Token, error)
	// TokenForVerify reads by hash, in one query, what verifying the token needs: its ID,
	// Kind, AccountID, UserID, UID, State, ExpiresAt, LastUsedAt, CreatedAt, RotatedAt,
	// DisabledAt and EnabledAt (its other fields may be left zero: write back only a token read
	// whole), a service token's grants (in Permissions, as TokenByHash) and, for a PAT, its
	// user's membership in its account with the grants of the user's active groups there (nil
	// for other kinds).
	TokenForVerify(ctx context.Context, hash []byte) (*Token, *MemberAccess, error)
	// TokenTags returns the cluster's tag key and whether untagged tokens are sealed
	// (tags.go); ENotFound when the key is gone.
	TokenTags(ctx context.Context) (TokenTags, error)
	// SealUntaggedTokens records that no node mints untagged tokens any more. It cannot be
	// undone; sealing a sealed store changes nothing.
	SealUntaggedTokens(ctx context.Context) error
	// TokenHashes calls fn with the fast hash of every stored token that has one, whatever its
	// state; fn must not keep the slice.
	TokenHashes(ctx context.Context, fn func(hash []byte)) error
	// UpdateToken writes t, a token of accountID (zero for a legacy key, which has no
	// account); ENotFound, changing nothing, when t is not a token of that account. It leaves
	// the last use alone: RecordTokenUses owns it, so an update from a copy read before a
	// usage flush cannot set it back.
	UpdateToken(ctx context.Context, accountID AccountID, t *Token) error
	ListTokens(ctx context.Context, f TokenFilter) ([]*Token, int, error)
	// SetTokenPermissions replaces the grants of the account's token; ENotFound, changing
	// nothing, for another account's token.
	SetTokenPermissions(ctx context.Context, accountID AccountID, tokenID TokenID, grants []perm.Grant) error
	// MarkTokenRotated sets RotatedAt of the account's token that has none; EConflict when it
	// has one (another rotation got there first), so that a token is rotated at most once;
	// ENotFound for another account's token.
	MarkTokenRotated(ctx context.Context, accountID AccountID, id TokenID, at time.Time) error
	// InactiveTokens returns up to limit active, not disabled PATs and service tokens of active
	// accounts with an inactivity setting whose latest activity (last use, creation or
	// re-enabling) is at least the account's inactivity days before now, by id.
	InactiveTokens(ctx context.Context, now time.Time, limit int) ([]*Token, error)
	// DisableIdleToken claims token id of the account for the inactivity sweep: it sets
	// DisabledAt (and UpdatedAt) to at only if the token is still active, not disabled, and its
	// latest activity (last use, creation or re-enabling) is at or before idleSince, and
	// reports whether it did. Of two nodes sweeping at once, one claims each token.
	DisableIdleToken(ctx context.Context, accountID AccountID, id TokenID, idleSince, at time.Time) (bool, error)
	// RecordTokenUses writes the latest use of each token; older uses than the stored one are
	// ignored. A token's first recorded use is kept as its first use.
	RecordTokenUses(ctx context.Context, uses []TokenUse) error
	// RevokeRotationChain deletes (state 2, updated at at) the active tokens of the account's
	// rotation chain through token id: its predecessors and successors by RotatedFrom, and id
	// itself. It returns the tokens it changed; a token another caller revoked first is not
	// among them.
	RevokeRotationChain(ctx context.Context, accountID AccountID, id TokenID, at time.Time) ([]*Token, error)
	// PendingOverlaps returns up to limit rotations whose overlap waits for the new token's
	// first use (FirstUseOverlap set) and whose new token has been used, by id of the new token.
	PendingOverlaps(ctx context.Context, limit int) ([]PendingOverlap, error)
	// StartOverlap clears FirstUseOverlap of the account's token id and reports whether it was
	// set: of two nodes starting the same overlap, one does. Another account's token is left
	// alone (false).
	StartOverlap(ctx context.Context, accountID AccountID, id TokenID) (bool, error)

	AppendAudit(ctx context.Context, e *AuditEvent) error
	ListAudit(ctx context.Context, f AuditFilter) ([]*AuditEvent, int, error)

	// The change feed: every change that can alter what a token may do appends its
	// invalidations, in the change's own transaction. Numbers are consecutive and become
	// visible in order: once a reader sees entry n, every entry below n is visible too, so a
	// reader that has read up to n never misses a committed entry by reading past n.
	//
	// AppendChanges appends invs, stamped at, inside the current transaction. A store shared by
	// several nodes also wakes them when the transaction commits.
	AppendChanges(ctx context.Context, at time.Time, invs []Invalidation) error
	// Changes returns up to limit entries numbered above after, in order.
	Changes(ctx context.Context, after int64, limit int) ([]Change, error)
	// FeedHead returns the number of the newest entry ever appended (0 when none).
	FeedHead(ctx context.Context) (int64, error)
	// PruneChanges deletes the entries stamped before before and returns how many.
	PruneChanges(ctx context.Context, before time.Time) (int, error)
	// Subscribe calls wake when other nodes append to the feed (with the newest number it
	// knows of, or 0 when listening starts, since anything before was missed) until ctx ends
	// (it returns nil) or the wake-up channel breaks or falls silent (it returns why). Wake-ups
	// only hurry a reader: the feed, read by number, is what is correct. A store with one node
	// returns nil at once.
	Subscribe(ctx context.Context, wake func(seq int64)) error

	// User credentials: a user's associations with development credentials. Lookups are scoped
	// to the user, so that one user's id never reaches another's association.
	CreateUserCredential(ctx context.Context, c *UserCredential) error
	UserCredential(ctx context.Context, userID UserID, id CredentialID) (*UserCredential, error)
	// UpdateUserCredential writes ProjectID, CredentialsID, State and UpdatedAt of c.UserID's
	// association c.ID; its account, user and creation time never change.
	UpdateUserCredential(ctx context.Context, c *UserCredential) error
	// ListUserCredentials lists by id; the total counts every row the filter selects.
	ListUserCredentials(ctx context.Context, f UserCredentialFilter) ([]*UserCredential, int, error)

	// Legacy-key uses: where each legacy user API key is still used, folded by place.
	// RecordLegacyUses adds each use's Count to the row of its place (token, account, method,
	// route, IP, user agent), creating it when new: FirstSeen keeps the earliest time, LastSeen
	// and LastStatus follow the latest LastSeen.
	RecordLegacyUses(ctx context.Context, uses []LegacyUse) error
	// ListLegacyUses lists places, most recently seen first (then by id).
	ListLegacyUses(ctx context.Context, f LegacyUseFilter) ([]*LegacyUse, error)

	// Daily token use: how many requests each token made per UTC day, for activity charts.
	// AddDailyUses adds each Count to its (token, day) row, creating it when new.
	AddDailyUses(ctx context.Context, uses []DailyUse) error
	// DailyUses lists a token's days on or after since, oldest first.
	DailyUses(ctx context.Context, tokenID TokenID, since time.Time) ([]DailyUse, error)

	// Capability uses: which capability each token was allowed, per UTC day and project, for
	// the least-privilege advice. AddCapabilityUses adds each Count to its (token, day,
	// capability, project) row, creating it when new; CapabilityUses lists a token's rows of
	// days on or after since, by day, then capability name, then project.
	AddCapabilityUses(ctx context.Context, uses []CapabilityUse) error
	CapabilityUses(ctx context.Context, tokenID TokenID, since time.Time) ([]CapabilityUse, error)

	// Invitations to join an account. ListInvitations selects by account or by e-mail (one
	// of the two is set; e-mails compare as stored, normalised), orders by id, and counts every
	// row the filter selects. UpdateInvitation writes License, GroupIDs, State, ExpiresAt,
	// RedeemedBy, RedeemedAt and UpdatedAt of the account's invitation i.ID.
	CreateInvitation(ctx context.Context, i *Invitation) error
	Invitation(ctx context.Context, accountID AccountID, id InvitationID) (*Invitation, error)
	UpdateInvitation(ctx context.Context, i *Invitation) error
	ListInvitations(ctx context.Context, f InvitationFilter) ([]*Invitation, int, error)

	// License maps of an account (SSO groups → license).
	CreateLicenseMap(ctx context.Context, m *LicenseMap) error
	// LicenseMap returns a map of the account, deleted ones included.
	LicenseMap(ctx context.Context, accountID AccountID, id LicenseMapID) (*LicenseMap, error)
	UpdateLicenseMap(ctx context.Context, m *LicenseMap) error
	// ListLicenseMaps lists by the filter's order (id by default); the total counts every row
	// the filter selects.
	ListLicenseMaps(ctx context.Context, f LicenseMapFilter) ([]*LicenseMap, int, error)
	// CountLicenses counts the account's active members by license.
	CountLicenses(ctx context.Context, accountID AccountID) (map[perm.License]int, error)

	// IP restriction rules of an account (the switch is Account.IPRestrictionsEnabled).
	CreateIPRule(ctx context.Context, r *IPRule) error
	// IPRule returns a rule of the account, deleted ones included.
	IPRule(ctx context.Context, accountID AccountID, id IPRuleID) (*IPRule, error)
	UpdateIPRule(ctx context.Context, r *IPRule) error
	// ListIPRules lists the account's active rules by id.
	ListIPRules(ctx context.Context, accountID AccountID) ([]*IPRule, error)

	// Console sessions, stored by the SHA-256 of their id (the id itself lives only in the
	// browser's cookie). An AccountID of zero is stored as no account.
	CreateSession(ctx context.Context, s *Session) error
	// SessionByHash returns the session whose id hashes to hash; ENotFound when there is none.
	SessionByHash(ctx context.Context, hash []byte) (*Session, error)
	// TouchSession writes a session's LastSeenAt, SetSessionAccount its AccountID (zero: none);
	// each writes that one column, so that a touch never undoes a concurrent account switch.
	// Both are ENotFound when the session is gone.
	TouchSession(ctx context.Context, id SessionID, lastSeen time.Time) error
	SetSessionAccount(ctx context.Context, id SessionID, accountID AccountID) error
	// PutSessionFlash stores a sealed one-time message of a session under key; TakeSessionFlash
	// deletes and returns it, when it was put at or after since; ENotFound when there is none
	// (taken already, too old, another session's, or its session ended: flashes go with it).
	PutSessionFlash(ctx context.Context, sessionID SessionID, key string, sealed []byte, at time.Time) error
	TakeSessionFlash(ctx context.Context, sessionID SessionID, key string, since time.Time) ([]byte, error)
	// DeleteSession deletes one session; deleting a missing session is not an error.
	DeleteSession(ctx context.Context, id SessionID) error
	// Trust policies of an account (token exchange).
	CreateTrustPolicy(ctx context.Context, p *TrustPolicy) error
	// TrustPolicy returns a policy of the account, deleted ones included.
	TrustPolicy(ctx context.Context, accountID AccountID, id TrustPolicyID) (*TrustPolicy, error)
	// UpdateTrustPolicy writes every field but the account, creator and creation time.
	UpdateTrustPolicy(ctx context.Context, p *TrustPolicy) error
	// ListTrustPolicies lists by id; the total counts every row the filter selects.
	ListTrustPolicies(ctx context.Context, f TrustPolicyFilter) ([]*TrustPolicy, int, error)
	// RevokeTrustPolicyTokens deletes (state 2, updated at at) the active tokens of the account
	// minted under the policy, and returns their ids.
	RevokeTrustPolicyTokens(ctx context.Context, accountID AccountID, policyID TrustPolicyID, at time.Time) ([]TokenID, error)
	// UseSubjectToken records that the exchanged token whose key (a hash of issuer and jti) is
	// key may not be exchanged again before expiresAt. A record still live at now is EConflict;
	// an expired one is replaced.
	UseSubjectToken(ctx context.Context, key []byte, expiresAt, now time.Time) error
	// DeleteExpiredSubjectTokens deletes the records that expired at or before now.
	DeleteExpiredSubjectTokens(ctx context.Context, now time.Time) (int, error)

	// Device authorizations (RFC 8628), found by the SHA-256 of their device code or of their
	// normalized user code; neither code is stored.
	CreateDeviceAuthorization(ctx context.Context, d *DeviceAuthorization) error
	DeviceAuthorizationByDeviceHash(ctx context.Context, hash []byte) (*DeviceAuthorization, error)
	DeviceAuthorizationByUserHash(ctx context.Context, hash []byte) (*DeviceAuthorization, error)
	// UpdateDeviceAuthorization writes State, UserID, AccountID, TokenID, Interval and
	// LastPolledAt, only while the stored state is still prev: EConflict when it moved on
	// (so that an approval is used once), ENotFound when the row is gone.
	UpdateDeviceAuthorization(ctx context.Context, d *DeviceAuthorization, prev DeviceState) error
	// DeleteExpiredDeviceAuthorizations deletes those that expired at or before now.
	DeleteExpiredDeviceAuthorizations(ctx context.Context, now time.Time) (int, error)

	// DeleteExpiredSessions deletes the sessions whose ExpiresAt is at or before now or whose
	// LastSeenAt is at or before idleSince, and returns how many it deleted.
	DeleteExpiredSessions(ctx context.Context, now, idleSince time.Time) (int, error)
	// DeleteUserSessions deletes the user's sessions except the one whose id is except (zero:
	// all of them) and returns how many it deleted.
	DeleteUserSessions(ctx context.Context, userID UserID, except SessionID) (int, error)

	// Webhook endpoints of an account (webhook.go). ListWebhookEndpoints lists by id;
	// UpdateWebhookEndpoint writes every field but the account, creator and creation time;
	// DeleteWebhookEndpoint deletes the endpoint with its messages and their attempts.
	CreateWebhookEndpoint(ctx context.Context, w *WebhookEndpoint) error
	WebhookEndpoint(ctx context.Context, accountID AccountID, id WebhookID) (*WebhookEndpoint, error)
	ListWebhookEndpoints(ctx context.Context, accountID AccountID) ([]*WebhookEndpoint, error)
	UpdateWebhookEndpoint(ctx context.Context, w *WebhookEndpoint) error
	DeleteWebhookEndpoint(ctx context.Context, accountID AccountID, id WebhookID) error

	// The webhook outbox (outbox.go, delivery.go). CreateWebhookMessages writes messages and
	// sets their ids.
	CreateWebhookMessages(ctx context.Context, ms []*WebhookMessage) error
	// ClaimWebhookMessages claims up to limit pending messages due at now (NextAttemptAt at or
	// before now) and not claimed (ClaimedUntil empty or at or before now), the earliest due
	// first: it sets their ClaimedUntil to until and their Lease to lease, and returns them so.
	// Two claims never return the same message while its claim holds, whatever the number of
	// nodes (PostgreSQL: FOR UPDATE SKIP LOCKED).
	ClaimWebhookMessages(ctx context.Context, now, until time.Time, lease int64, limit int) ([]*WebhookMessage, error)
	// RecordWebhookAttempt appends a to the delivery log and writes m's State, Attempts,
	// NextAttemptAt, LastStatus, LastError and UpdatedAt and clears its claim, in one
	// transaction, when m is still claimed under m.Lease; ENotFound (and nothing written but
	// the attempt) when it is not: the claim lapsed and another worker has the message.
	RecordWebhookAttempt(ctx context.Context, m *WebhookMessage, a *WebhookAttempt) error
	// WebhookMessage returns a message of the account's endpoint.
	WebhookMessage(ctx context.Context, accountID AccountID, endpointID WebhookID, id int64) (*WebhookMessage, error)
	// ListWebhookMessages lists newest first (by id); the total counts every row selected.
	ListWebhookMessages(ctx context.Context, f WebhookMessageFilter) ([]*WebhookMessage, int, error)
	// WebhookAttempts lists a message's attempts, oldest first.
	WebhookAttempts(ctx context.Context, accountID AccountID, messageID int64) ([]*WebhookAttempt, error)
	// RequeueWebhookMessage writes m's State, NextAttemptAt, RetryUntil and UpdatedAt, when m
	// is not claimed at now (EConflict when it is).
	RequeueWebhookMessage(ctx context.Context, m *WebhookMessage, now time.Time) error
	// DeleteWebhookMessages deletes the delivered and failed messages created before before,
	// with their attempts, and returns how many.
	DeleteWebhookMessages(ctx context.Context, before time.Time) (int, error)

	// Notices (notice.go). TokensForNotice returns the tokens the filter selects;
	// AddTokenNotice records that the notice (tokenID, event, threshold) was sent at at, and
	// reports false when it had been already.
	TokensForNotice(ctx context.Context, f NoticeFilter) ([]*Token, error)
	AddTokenNotice(ctx context.Context, tokenID TokenID, event string, threshold int, at time.Time) (bool, error)
	// AddTokenAddresses records addresses tokens were used from and returns those that were
	// new for their token; an address of a token that does not exist is dropped.
	AddTokenAddresses(ctx context.Context, as []TokenAddress) ([]TokenAddress, error)

	// Password reset links, stored by the SHA-256 of their secret.
	CreatePasswordReset(ctx context.Context, r *PasswordReset) error
	// PasswordResetByHash returns the link whose secret hashes to hash; ENotFound when none.
	PasswordResetByHash(ctx context.Context, hash []byte) (*PasswordReset, error)
	// UsePasswordReset marks an unused link used at at; ENotFound when it was used already, so
	// that of two redemptions at once only one succeeds.
	UsePasswordReset(ctx context.Context, id int64, at time.Time) error
	// DeletePasswordResets deletes the user's unused links and returns how many.
	DeletePasswordResets(ctx context.Context, userID UserID) (int, error)
}

// MembershipFilter selects the memberships (users) of one account.
type MembershipFilter struct {
	AccountID AccountID
	State     State // zero: any
	// Order is by the user's fields: id (the user's), email, first_name, last_name.
	Order Order
	Page
}

// MemberAccess is what a PAT's user holds in the token's account: their membership (Member is
// false when they have none) and the grants of their active groups there.
type MemberAccess struct {
	Member  bool
	License perm.License
	State   State
	Grants  []perm.Grant
}
