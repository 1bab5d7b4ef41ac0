package tokend

// TokenTags is what the store keeps of the tags of tokens.
type TokenTags struct {
	// Key is the cluster's tag key, 32 random bytes made by the store's migration; it never
	// changes.
	Key []byte
	// UntaggedSealed says that no node mints untagged tokens any more. An SQLite database is
	// sealed by the migration that made the key; PostgreSQL by `tokend migrate
	// --seal-untagged-tokens`, once no node of an older version runs.
	UntaggedSealed bool
}
