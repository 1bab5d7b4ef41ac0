package tokend

import (
	"strings"
	"unicode/utf8"
)

// checkText refuses text that the stores would not keep alike: a NUL character (PostgreSQL
// refuses it in text columns, SQLite keeps it) or bytes that are not UTF-8. Every name,
// e-mail, description and filter passes it before it reaches a store, so that bad input is a
// 400 naming field on every store instead of a 500 on one.
func checkText(field, s string) error {
	if strings.IndexByte(s, 0) >= 0 {
		return Invalidf(field, "%q must not contain a NUL character.", field)
	}
	if !utf8.ValidString(s) {
		return Invalidf(field, "%q must be UTF-8 text.", field)
	}
	return nil
}

// storable makes request text a client controls (a path, a user agent) fit every store: bytes
// that are not UTF-8 become U+FFFD and NUL characters are dropped. It is for text recorded as
// is, never for input that is checked (checkText refuses that instead).
func storable(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
}
