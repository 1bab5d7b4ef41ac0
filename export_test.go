package tokend

// SameRights reports whether a and b hold one shared copy of their rights, not merely equal
// ones (see rightsPool).
func SameRights(a, b *Principal) bool { return a.rights == b.rights }
