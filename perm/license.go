package perm

// License is a membership's license type, as in dbt's OpenAPI LicenseTypeEnum.
// dbt: "the user's license type always overrides their assigned permission set".
type License string

// The license types, in LicenseTypeEnum order.
const (
	LicenseDeveloper License = "developer"
	LicenseReadOnly  License = "read_only"
	LicenseAnalyst   License = "analyst"
	LicenseIT        License = "it"
)

// LicenseTypes returns every license type in LicenseTypeEnum order.
func LicenseTypes() []License {
	return []License{LicenseDeveloper, LicenseReadOnly, LicenseAnalyst, LicenseIT}
}

// Valid reports whether l is one of dbt's license types.
func (l License) Valid() bool {
	switch l {
	case LicenseDeveloper, LicenseReadOnly, LicenseAnalyst, LicenseIT:
		return true
	}
	return false
}

// Interned returns l as the package's constant of the same value, so that a license read
// from a database row shares its bytes with every other instead of holding its own copy
// (verified principals stay in memory). Unknown values come back as they are.
func (l License) Interned() License {
	switch l {
	case LicenseDeveloper:
		return LicenseDeveloper
	case LicenseReadOnly:
		return LicenseReadOnly
	case LicenseAnalyst:
		return LicenseAnalyst
	case LicenseIT:
		return LicenseIT
	}
	return l
}

// CanCreatePAT reports whether a member with this license may create a
// personal access token: every license (Developer, Analyst, Read-only, IT).
// The seeds name Developer; dbt has since opened PATs to the others. The
// license still caps what the token can do (Apply).
func (l License) CanCreatePAT() bool {
	return l.Valid()
}

// CanManageServiceTokens reports whether a person with this license may
// create, change or delete service tokens (with account-admin rights too):
// Developer, and Analyst, which behaves like Developer.
func (l License) CanManageServiceTokens() bool {
	return l == LicenseDeveloper || l == LicenseAnalyst
}

// Label is the license's name as dbt's interface shows it.
func (l License) Label() string {
	switch l {
	case LicenseDeveloper:
		return "Developer"
	case LicenseReadOnly:
		return "Read-only"
	case LicenseAnalyst:
		return "Analyst"
	case LicenseIT:
		return "IT"
	}
	return string(l)
}

// Allows reports whether a member with license l can hold access a on r at
// all, whatever their groups grant.
func (l License) Allows(r Resource, a Access) bool {
	return l.Apply(^Caps(0)).Has(r, a)
}

// itCaps is what an IT license grants whatever the groups: dbt's IT license
// carries the Security Admin and Billing Admin permission sets.
func itCaps() Caps {
	return SecurityAdmin.Caps() | BillingAdmin.Caps()
}

// Apply returns what c becomes under license l. Developer and Analyst keep c;
// Read-Only keeps only reads; IT is exactly Security Admin ∪ Billing Admin
// whatever c is. An unknown license grants nothing.
func (l License) Apply(c Caps) Caps {
	switch l {
	case LicenseDeveloper, LicenseAnalyst:
		return c
	case LicenseReadOnly:
		return c.ReadOnly()
	case LicenseIT:
		return itCaps()
	}
	return 0
}
