package tokend

import (
	"context"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"tokend/perm"
)

// LicenseMap says which license a user who signs in through SSO gets: the license of the map
// whose SSO groups include one of theirs.
type LicenseMap struct {
	ID        LicenseMapID
	AccountID AccountID
	License   perm.License
	SSOGroups []string
	State     State
	CreatedAt time.Time
	UpdatedAt time.Time
}

// LicenseMapFilter selects license maps of one account.
type LicenseMapFilter struct {
	AccountID AccountID
	State     State // zero: any
	Select    IDSelect
	Order     Order // id, license_type, created_at, updated_at
	Page
}

// Bounds of a license map's SSO groups.
const (
	MaxSSOGroups        = 100
	MaxSSOGroupNameSize = 255
)

// LicenseMapInput is a license map as a client writes it; nil leaves a field alone in an
// update. State 2 deletes the map.
type LicenseMapInput struct {
	License   *perm.License
	SSOGroups *[]string
	State     *State
}

// ListLicenseMaps lists the account's license maps; it needs read access to licenses.
func (s *Service) ListLicenseMaps(ctx context.Context, p *Principal, accountID AccountID, f LicenseMapFilter) ([]*LicenseMap, int, error) {
	if err := authorize(p, accountID, perm.Licenses, perm.Read, 0); err != nil {
		return nil, 0, err
	}
	if f.State != 0 && !f.State.Valid() {
		return nil, 0, Invalidf("state", "The state must be 1 (active) or 2 (deleted), got %d.", f.State)
	}
	if err := checkOrder(f.Order, "license_type", "created_at", "updated_at"); err != nil {
		return nil, 0, err
	}
	f.AccountID = accountID
	f.Page = f.Page.Normalize()
	return s.store.ListLicenseMaps(ctx, f)
}

// LicenseMap returns one active license map; a deleted one is not found.
func (s *Service) LicenseMap(ctx context.Context, p *Principal, accountID AccountID, id LicenseMapID) (*LicenseMap, error) {
	if err := authorize(p, accountID, perm.Licenses, perm.Read, 0); err != nil {
		return nil, err
	}
	return activeLicenseMap(ctx, s.store, accountID, id)
}

func activeLicenseMap(ctx context.Context, st Store, accountID AccountID, id LicenseMapID) (*LicenseMap, error) {
	m, err := st.LicenseMap(ctx, accountID, id)
	if err == nil && m.State != StateActive {
		err = Errorf(ENotFound, "License map %d not found.", id)
	}
	if err != nil {
		return nil, err
	}
	return m, nil
}

// CreateLicenseMap adds a license map; it needs write access to licenses.
func (s *Service) CreateLicenseMap(ctx context.Context, p *Principal, accountID AccountID, in LicenseMapInput) (*LicenseMap, error) {
	if err := authorize(p, accountID, perm.Licenses, perm.Write, 0); err != nil {
		return nil, err
	}
	if in.License == nil {
		return nil, Invalidf("license_type", "\"license_type\" is required: one of developer, read_only, analyst, it.")
	}
	if in.State != nil && *in.State != StateActive {
		return nil, Invalidf("state", "A new license map must be active (state 1), got %d.", *in.State)
	}
	now := s.now()
	m := &LicenseMap{AccountID: accountID, State: StateActive, CreatedAt: now, UpdatedAt: now}
	if _, err := applyLicenseMap(m, in); err != nil {
		return nil, err
	}
	err := s.change(ctx, func(st *txn) error {
		if err := st.CreateLicenseMap(ctx, m); err != nil {
			return err
		}
		e := event(ctx, p, accountID, "license_map.create", "license_map", m.ID)
		e.Detail = map[string]string{"license_type": string(m.License), "sso_groups": strings.Join(m.SSOGroups, ", ")}
		st.audit(e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// UpdateLicenseMap changes the fields in names; state 2 deletes the map. A deleted map is not
// found.
func (s *Service) UpdateLicenseMap(ctx context.Context, p *Principal, accountID AccountID, id LicenseMapID, in LicenseMapInput) (*LicenseMap, error) {
	if err := authorize(p, accountID, perm.Licenses, perm.Write, 0); err != nil {
		return nil, err
	}
	var out *LicenseMap
	err := s.change(ctx, func(st *txn) error {
		m, err := activeLicenseMap(ctx, st, accountID, id)
		if err != nil {
			return err
		}
		changed, err := applyLicenseMap(m, in)
		if err != nil {
			return err
		}
		out = m
		if len(changed) == 0 {
			return nil
		}
		m.UpdatedAt = s.now()
		if err := st.UpdateLicenseMap(ctx, m); err != nil {
			return err
		}
		action := "license_map.update"
		if m.State == StateDeleted {
			action = "license_map.delete"
		}
		e := event(ctx, p, accountID, action, "license_map", id)
		e.Detail = changed
		st.audit(e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteLicenseMap deletes a license map.
func (s *Service) DeleteLicenseMap(ctx context.Context, p *Principal, accountID AccountID, id LicenseMapID) error {
	st := StateDeleted
	_, err := s.UpdateLicenseMap(ctx, p, accountID, id, LicenseMapInput{State: &st})
	return err
}

// applyLicenseMap checks in and writes it into m; it returns what changed.
func applyLicenseMap(m *LicenseMap, in LicenseMapInput) (map[string]string, error) {
	changed := map[string]string{}
	if in.License != nil {
		if !in.License.Valid() {
			return nil, Invalidf("license_type", "\"license_type\" must be one of developer, read_only, analyst, it; got %q.", *in.License)
		}
		if *in.License != m.License {
			changed["license_type"] = string(*in.License)
			m.License = *in.License
		}
	}
	if in.SSOGroups != nil {
		groups, err := ssoGroups(*in.SSOGroups)
		if err != nil {
			return nil, err
		}
		if strings.Join(groups, "\x00") != strings.Join(m.SSOGroups, "\x00") {
			changed["sso_groups"] = strings.Join(groups, ", ")
			m.SSOGroups = groups
		}
	}
	if in.State != nil {
		if !in.State.Valid() {
			return nil, Invalidf("state", "The state must be 1 (active) or 2 (deleted), got %d.", *in.State)
		}
		if *in.State != m.State {
			changed["state"] = strconv.Itoa(int(*in.State))
			m.State = *in.State
		}
	}
	return changed, nil
}

// ssoGroups checks a license map's SSO group names: each non-empty after trimming, of bounded
// length, without duplicates; order is kept.
func ssoGroups(in []string) ([]string, error) {
	if len(in) > MaxSSOGroups {
		return nil, Invalidf("sso_license_mapping_groups", "A license map takes at most %d SSO groups.", MaxSSOGroups)
	}
	out := []string{}
	for i, g := range in {
		g = strings.TrimSpace(g)
		if g == "" {
			return nil, Invalidf("sso_license_mapping_groups", "SSO group %d is empty.", i)
		}
		if utf8.RuneCountInString(g) > MaxSSOGroupNameSize {
			return nil, Invalidf("sso_license_mapping_groups", "SSO group %d is longer than %d characters.", i, MaxSSOGroupNameSize)
		}
		if err := checkText("sso_license_mapping_groups", g); err != nil {
			return nil, err
		}
		dup := false
		for _, o := range out {
			if o == g {
				dup = true
			}
		}
		if !dup {
			out = append(out, g)
		}
	}
	return out, nil
}

// LicenseCounts counts the account's active members by license, for dbt's license allocation;
// it needs read access to licenses. tokend sets no seat limits.
func (s *Service) LicenseCounts(ctx context.Context, p *Principal, accountID AccountID) (map[perm.License]int, *Account, error) {
	if err := authorize(p, accountID, perm.Licenses, perm.Read, 0); err != nil {
		return nil, nil, err
	}
	acct, err := s.account(ctx, accountID)
	if err != nil {
		return nil, nil, err
	}
	counts, err := s.store.CountLicenses(ctx, accountID)
	if err != nil {
		return nil, nil, err
	}
	return counts, acct, nil
}
