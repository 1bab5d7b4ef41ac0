package tokend

// Ids have a type per kind, so that the compiler refuses an account id where a user id
// belongs: memberPerms(ctx, accountID, userID) cannot be called as (userID, accountID). The
// zero value of each means none. The wire (JSON, path parameters, SQL) carries them as plain
// integers; adapters convert at their edge.
type (
	AccountID     int64
	UserID        int64
	MembershipID  int64
	ProjectID     int64
	GroupID       int64
	TokenID       int64
	InvitationID  int64
	TrustPolicyID int64
	SessionID     int64
	LicenseMapID  int64
	IPRuleID      int64
	WebhookID     int64 // a webhook endpoint's
	// CredentialID is the id of a user's association with development credentials (a
	// UserCredential), not of the credentials themselves (CredentialsID, a dbt id).
	CredentialID int64
)
