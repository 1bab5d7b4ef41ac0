package tokend

import (
	"fmt"
	"time"
)

// Migration is one numbered schema migration as a store sees it: known to this binary (Name
// set), applied to the database (AppliedAt set), or both.
type Migration struct {
	Version   int64
	Name      string    // file name; empty for a version this binary does not know
	AppliedAt time.Time // zero: not applied
}

// SchemaNewerError says the database was migrated by a newer tokend than this one: running on
// it could misread or corrupt what the newer schema holds, so the stores refuse to open it.
type SchemaNewerError struct {
	Database int64 // the highest version applied to the database
	Known    int64 // the highest version this binary knows
}

func (e *SchemaNewerError) Error() string {
	return fmt.Sprintf("the database schema is at version %d, newer than this tokend knows (%d): "+
		"it was upgraded by a newer tokend; run that version or newer, or restore a backup taken before the upgrade",
		e.Database, e.Known)
}
