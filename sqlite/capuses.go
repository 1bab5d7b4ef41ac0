package sqlite

import (
	"context"
	"time"

	"tokend"
	"tokend/perm"
)

func (s *Store) AddCapabilityUses(ctx context.Context, uses []tokend.CapabilityUse) error {
	if len(uses) == 0 {
		return nil
	}
	return s.Tx(ctx, func(tx tokend.Store) error {
		st := tx.(*Store)
		for _, u := range uses {
			if _, err := st.tx.ExecContext(ctx, `
				INSERT INTO token_capability_uses (token_id, day, capability, project_id, count) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (token_id, day, capability, project_id) DO UPDATE SET count = count + excluded.count`,
				u.TokenID, u.Day.Unix()/secondsPerDay, perm.Name(u.Resource, u.Access), u.ProjectID, u.Count); err != nil {
				return translate(err)
			}
		}
		return nil
	})
}

func (s *Store) CapabilityUses(ctx context.Context, tokenID tokend.TokenID, since time.Time) ([]tokend.CapabilityUse, error) {
	rows, err := s.reader().QueryContext(ctx, `
		SELECT day, capability, project_id, count FROM token_capability_uses
		WHERE token_id = ? AND day >= ? ORDER BY day, capability, project_id`,
		tokenID, since.Unix()/secondsPerDay)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var out []tokend.CapabilityUse
	for rows.Next() {
		var (
			day, project, n int64
			name            string
		)
		if err := rows.Scan(&day, &name, &project, &n); err != nil {
			return nil, translate(err)
		}
		r, a, ok := perm.ParseName(name)
		if !ok {
			continue // a capability this version no longer knows
		}
		out = append(out, tokend.CapabilityUse{TokenID: tokenID, Day: time.Unix(day*secondsPerDay, 0).UTC(),
			Resource: r, Access: a, ProjectID: tokend.ProjectID(project), Count: n})
	}
	return out, translate(rows.Err())
}
