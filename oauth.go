package tokend

import "fmt"

// OAuthError is a refusal at the OAuth token and device endpoints, in RFC 6749's terms (§5.2)
// and those of RFC 8628 (§3.5) and RFC 8693 (§2.2.2). Description is safe to show the caller: it
// says which check failed without revealing what a trust policy expects.
type OAuthError struct {
	Code        string // e.g. "invalid_grant"
	Description string
	// Interval is the new polling interval, in seconds, of a slow_down answer.
	Interval int
}

func (e *OAuthError) Error() string {
	return fmt.Sprintf("tokend: oauth %s: %s", e.Code, e.Description)
}

// The error codes tokend answers with.
const (
	OAuthInvalidRequest       = "invalid_request"
	OAuthInvalidClient        = "invalid_client"
	OAuthInvalidGrant         = "invalid_grant"
	OAuthInvalidScope         = "invalid_scope"
	OAuthInvalidTarget        = "invalid_target"
	OAuthUnsupportedGrantType = "unsupported_grant_type"
	OAuthAuthorizationPending = "authorization_pending"
	OAuthSlowDown             = "slow_down"
	OAuthAccessDenied         = "access_denied"
	OAuthExpiredToken         = "expired_token"
	OAuthTemporarilyUnavail   = "temporarily_unavailable"
)

func oauthErr(code, format string, args ...any) *OAuthError {
	return &OAuthError{Code: code, Description: fmt.Sprintf(format, args...)}
}

// The grant and token types of the token endpoint.
const (
	GrantTypeTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	GrantTypeDeviceCode    = "urn:ietf:params:oauth:grant-type:device_code"
	TokenTypeJWT           = "urn:ietf:params:oauth:token-type:jwt"
	TokenTypeIDToken       = "urn:ietf:params:oauth:token-type:id_token"
	TokenTypeAccessToken   = "urn:ietf:params:oauth:token-type:access_token"
)
