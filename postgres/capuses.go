package postgres

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
	ids := make([]int64, 0, len(uses))
	days := make([]time.Time, 0, len(uses))
	caps := make([]string, 0, len(uses))
	projects := make([]int64, 0, len(uses))
	counts := make([]int64, 0, len(uses))
	for _, u := range uses {
		ids = append(ids, int64(u.TokenID))
		days = append(days, u.Day.UTC())
		caps = append(caps, perm.Name(u.Resource, u.Access))
		projects = append(projects, int64(u.ProjectID))
		counts = append(counts, u.Count)
	}
	// One statement for the batch, summed per key first (ON CONFLICT touches a row once) and
	// in key order, so that two nodes flushing at once lock rows in the same order.
	_, err := s.q().Exec(ctx, `
		INSERT INTO token_capability_uses (token_id, day, capability, project_id, count)
		SELECT id, day, cap, project, sum(n)
		FROM unnest($1::bigint[], $2::date[], $3::text[], $4::bigint[], $5::bigint[]) AS x(id, day, cap, project, n)
		GROUP BY id, day, cap, project ORDER BY id, day, cap, project
		ON CONFLICT (token_id, day, capability, project_id) DO UPDATE
		SET count = token_capability_uses.count + excluded.count`,
		ids, days, caps, projects, counts)
	return translate(err)
}

func (s *Store) CapabilityUses(ctx context.Context, tokenID tokend.TokenID, since time.Time) ([]tokend.CapabilityUse, error) {
	rows, err := s.q().Query(ctx, `
		SELECT day, capability, project_id, count FROM token_capability_uses
		WHERE token_id = $1 AND day >= $2::date ORDER BY day, capability, project_id`,
		tokenID, since.UTC())
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var out []tokend.CapabilityUse
	for rows.Next() {
		var (
			day        time.Time
			name       string
			project, n int64
		)
		if err := rows.Scan(&day, &name, &project, &n); err != nil {
			return nil, translate(err)
		}
		r, a, ok := perm.ParseName(name)
		if !ok {
			continue // a capability this version no longer knows
		}
		out = append(out, tokend.CapabilityUse{TokenID: tokenID,
			Day:      time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, time.UTC),
			Resource: r, Access: a, ProjectID: tokend.ProjectID(project), Count: n})
	}
	return out, translate(rows.Err())
}
