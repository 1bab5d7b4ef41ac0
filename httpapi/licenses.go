package httpapi

import (
	"net/http"

	"tokend"
	"tokend/perm"
)

// licenseDetailJSON is dbt's LicenseDetail. tokend sets no seat limits: every license is
// unlimited, and the counts are the account's active members with it.
type licenseDetailJSON struct {
	Limited        bool `json:"limited"`
	OverLimit      bool `json:"over_limit"`
	Total          int  `json:"total"`
	InUse          int  `json:"in_use"`
	Available      int  `json:"available"`
	Assigned       int  `json:"assigned"`
	EnterprisePlan bool `json:"enterprise_plan"`
}

// licenseAllocationJSON is dbt's LicenseAllocationResponse. tokend has no Explorer license:
// it is always empty.
type licenseAllocationJSON struct {
	Developer licenseDetailJSON `json:"developer"`
	Explorer  licenseDetailJSON `json:"explorer"`
	ReadOnly  licenseDetailJSON `json:"read_only"`
	IT        licenseDetailJSON `json:"it"`
	Analyst   licenseDetailJSON `json:"analyst"`
}

// listLicenses answers dbt's license allocation of the account: one element.
func (s *Server) listLicenses(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, err := pathID[tokend.AccountID](r, "account_id")
	if err != nil {
		return err
	}
	q, err := readList(r)
	if err != nil {
		return err
	}
	counts, acct, err := s.svc.LicenseCounts(r.Context(), p, accountID)
	if err != nil {
		return err
	}
	fam := acct.Plan.Family()
	enterprise := fam == "enterprise" || fam == "enterprise_plus"
	detail := func(l perm.License) licenseDetailJSON {
		n := counts[l]
		return licenseDetailJSON{Total: n, InUse: n, Assigned: n, EnterprisePlan: enterprise}
	}
	out := []licenseAllocationJSON{{Developer: detail(perm.LicenseDeveloper), Explorer: licenseDetailJSON{EnterprisePlan: enterprise},
		ReadOnly: detail(perm.LicenseReadOnly), IT: detail(perm.LicenseIT), Analyst: detail(perm.LicenseAnalyst)}}
	writeList(w, out, len(out), len(out), q.filters, "id")
	return nil
}

// licenseMapJSON is dbt's LicenseMapResponse.
type licenseMapJSON struct {
	ID                      int64    `json:"id"`
	AccountID               int64    `json:"account_id"`
	LicenseType             string   `json:"license_type"`
	State                   int      `json:"state"`
	SSOLicenseMappingGroups []string `json:"sso_license_mapping_groups"`
	CreatedAt               *string  `json:"created_at"`
	UpdatedAt               *string  `json:"updated_at"`
}

func toLicenseMapJSON(m *tokend.LicenseMap) licenseMapJSON {
	groups := m.SSOGroups
	if groups == nil {
		groups = []string{}
	}
	return licenseMapJSON{ID: int64(m.ID), AccountID: int64(m.AccountID), LicenseType: string(m.License), State: int(m.State),
		SSOLicenseMappingGroups: groups, CreatedAt: jsonTime(m.CreatedAt), UpdatedAt: jsonTime(m.UpdatedAt)}
}

// licenseMapRequest is dbt's LicenseMapRequest; an update changes what it names.
type licenseMapRequest struct {
	AccountID               *int64    `json:"account_id"`
	LicenseType             *string   `json:"license_type"`
	State                   *int      `json:"state"`
	SSOLicenseMappingGroups *[]string `json:"sso_license_mapping_groups"`
}

func (req licenseMapRequest) input(accountID tokend.AccountID) (tokend.LicenseMapInput, error) {
	var in tokend.LicenseMapInput
	if err := checkAccountField(req.AccountID, int64(accountID)); err != nil {
		return in, err
	}
	if req.LicenseType != nil {
		l := perm.License(*req.LicenseType)
		in.License = &l
	}
	if req.State != nil {
		st := tokend.State(*req.State)
		in.State = &st
	}
	in.SSOGroups = req.SSOLicenseMappingGroups
	return in, nil
}

func (s *Server) listLicenseMaps(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, err := pathID[tokend.AccountID](r, "account_id")
	if err != nil {
		return err
	}
	q, err := readList(r, "state", "pk", "order_by")
	if err != nil {
		return err
	}
	f := tokend.LicenseMapFilter{Page: q.page}
	if f.State, err = q.state(); err != nil {
		return err
	}
	if f.Select, err = q.ids(); err != nil {
		return err
	}
	var orderBy string
	f.Order, orderBy = q.order("id")
	ms, total, err := s.svc.ListLicenseMaps(r.Context(), p, accountID, f)
	if err != nil {
		return err
	}
	out := make([]licenseMapJSON, len(ms))
	for i, m := range ms {
		out[i] = toLicenseMapJSON(m)
	}
	writeList(w, out, len(out), total, q.filters, orderBy)
	return nil
}

func (s *Server) getLicenseMap(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, id, err := accountAnd[tokend.LicenseMapID](r, "id")
	if err != nil {
		return err
	}
	m, err := s.svc.LicenseMap(r.Context(), p, accountID, id)
	if err != nil {
		return err
	}
	writeOK(w, toLicenseMapJSON(m))
	return nil
}

// createLicenseMap answers 201 with the new map (dbt's documents say 200; clients take any 2xx).
func (s *Server) createLicenseMap(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, err := pathID[tokend.AccountID](r, "account_id")
	if err != nil {
		return err
	}
	var req licenseMapRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	in, err := req.input(accountID)
	if err != nil {
		return err
	}
	m, err := s.svc.CreateLicenseMap(r.Context(), p, accountID, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toLicenseMapJSON(m), nil)
	return nil
}

// updateLicenseMap changes what the body names; state 2 deletes the map.
func (s *Server) updateLicenseMap(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, id, err := accountAnd[tokend.LicenseMapID](r, "id")
	if err != nil {
		return err
	}
	var req licenseMapRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	in, err := req.input(accountID)
	if err != nil {
		return err
	}
	m, err := s.svc.UpdateLicenseMap(r.Context(), p, accountID, id, in)
	if err != nil {
		return err
	}
	writeOK(w, toLicenseMapJSON(m))
	return nil
}

// deleteLicenseMap answers 204, as dbt documents; a later GET is a 404.
func (s *Server) deleteLicenseMap(w http.ResponseWriter, r *http.Request, p *tokend.Principal) error {
	accountID, id, err := accountAnd[tokend.LicenseMapID](r, "id")
	if err != nil {
		return err
	}
	if err := s.svc.DeleteLicenseMap(r.Context(), p, accountID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
