package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"tokend"
	"tokend/perm"
)

// Paul owns Arrakis and also belongs to Caladan; Gurney is added to Arrakis.
func TestListAndGetUsers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	arrakis := e.initAccount("Arrakis", "paul@example.com")
	caladan := e.initAccount("Caladan", "leto@example.com")
	a, c := arrakis.Account.ID, caladan.Account.ID
	paul := arrakis.User.ID
	joinElsewhere(t, e, caladan.Token, c, `{"email": "paul@example.com", "license_type": "read_only"}`, paul, arrakis.Token)
	gurney := addUser(t, e, arrakis.Token, a, `{"email": "gurney@example.com", "first_name": "Gurney", "last_name": "Halleck"}`)

	t.Run("list holds this account's license only", func(t *testing.T) {
		for _, v := range []string{"v2", "v3"} {
			r := e.do("GET", fmt.Sprintf("/api/%s/accounts/%d/users/", v, a), bearer(arrakis.Token), "")
			if r.Code != http.StatusOK {
				t.Fatalf("%s: got %d, want 200: %s", v, r.Code, r.Raw)
			}
			var users []userBody
			r.data(t, &users)
			if len(users) != 2 || users[0].ID != int64(paul) || users[1].ID != gurney.ID {
				t.Fatalf("%s: got %+v, want Paul then Gurney", v, users)
			}
			for _, u := range users {
				if len(u.Permissions) != 1 || u.Permissions[0].AccountID != int64(a) {
					t.Errorf("%s: user %d: got permissions %+v, want exactly account %d's", v, u.ID, u.Permissions, a)
				}
			}
			if got, want := users[0].Permissions[0].groupNames(), []string{"Owner", "Everyone"}; !slices.Equal(got, want) {
				t.Errorf("%s: Paul's groups: got %v, want %v", v, got, want)
			}
			if got, want := users[1].Permissions[0].groupNames(), []string{"Everyone"}; !slices.Equal(got, want) {
				t.Errorf("%s: Gurney's groups: got %v, want %v", v, got, want)
			}
			var extra listExtra
			if err := jsonUnmarshal(r.Body.Extra, &extra); err != nil {
				t.Fatal(err)
			}
			if extra.Pagination.Count != 2 || extra.Pagination.TotalCount != 2 {
				t.Errorf("%s: got pagination %+v, want count 2 total 2", v, extra.Pagination)
			}
		}
	})

	t.Run("v2 user: this account's license first and only", func(t *testing.T) {
		for _, tc := range []struct {
			tok     string
			account int64
			license string
		}{{arrakis.Token, int64(a), "developer"}, {mintPAT(t, e, c, paul), int64(c), "read_only"}} {
			r := e.do("GET", fmt.Sprintf("/api/v2/accounts/%d/users/%d/", tc.account, paul), bearer(tc.tok), "")
			if r.Code != http.StatusOK {
				t.Fatalf("got %d, want 200: %s", r.Code, r.Raw)
			}
			var u userBody
			r.data(t, &u)
			if u.ID != int64(paul) || u.Email != "paul@example.com" {
				t.Errorf("got user %d %q, want %d paul@example.com", u.ID, u.Email, paul)
			}
			if len(u.Permissions) != 1 {
				t.Fatalf("got %d permissions, want 1 (an account-scoped token sees one account)", len(u.Permissions))
			}
			if p := u.Permissions[0]; p.AccountID != tc.account || p.LicenseType != tc.license || p.UserID != int64(paul) {
				t.Errorf("got permissions[0] %+v, want account %d, %s", p, tc.account, tc.license)
			}
		}
	})

	t.Run("v3 user", func(t *testing.T) {
		r := e.do("GET", fmt.Sprintf("/api/v3/accounts/%d/users/%d/", a, gurney.ID), bearer(arrakis.Token), "")
		if r.Code != http.StatusOK {
			t.Fatalf("got %d, want 200: %s", r.Code, r.Raw)
		}
		var u struct {
			userBody
			Fullname string `json:"fullname"`
			License  struct {
				ID          int64  `json:"id"`
				LicenseType string `json:"license_type"`
			} `json:"license"`
		}
		r.data(t, &u)
		if u.Fullname != "Gurney Halleck" || !u.IsActive {
			t.Errorf("got fullname %q active %v, want \"Gurney Halleck\" true", u.Fullname, u.IsActive)
		}
		if len(u.Permissions) != 1 || u.License.ID != u.Permissions[0].ID || u.License.LicenseType != "developer" {
			t.Errorf("got license %+v permissions %+v, want the developer license of account %d", u.License, u.Permissions, a)
		}
	})

	t.Run("a user reads themselves without users read", func(t *testing.T) {
		setGroups(t, e, a, tokend.UserID(gurney.ID)) // no groups: no capability at all
		tok := mintPAT(t, e, a, tokend.UserID(gurney.ID))
		for _, tc := range []struct {
			name string
			path string
			want int
		}{
			{"self v2", fmt.Sprintf("/api/v2/accounts/%d/users/%d/", a, gurney.ID), http.StatusOK},
			{"self v3", fmt.Sprintf("/api/v3/accounts/%d/users/%d/", a, gurney.ID), http.StatusOK},
			{"someone else", fmt.Sprintf("/api/v3/accounts/%d/users/%d/", a, paul), http.StatusForbidden},
			{"the list", fmt.Sprintf("/api/v3/accounts/%d/users/", a), http.StatusForbidden},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if r := e.do("GET", tc.path, bearer(tok), ""); r.Code != tc.want {
					t.Errorf("got %d, want %d: %s", r.Code, tc.want, r.Raw)
				}
			})
		}
	})

	t.Run("groups are shown only to who may read groups", func(t *testing.T) {
		ctx := context.Background()
		now := time.Now()
		g := &tokend.Group{AccountID: a, Name: "Notifiers", State: tokend.StateActive, CreatedAt: now, UpdatedAt: now}
		if err := e.store.CreateGroup(ctx, g); err != nil {
			t.Fatal(err)
		}
		if err := e.store.SetGroupPermissions(ctx, a, g.ID, []perm.Grant{{Set: perm.NotificationManager, AllProjects: true}}); err != nil {
			t.Fatal(err)
		}
		irulan := addUser(t, e, arrakis.Token, a, `{"email": "irulan@example.com"}`)
		setGroups(t, e, a, tokend.UserID(irulan.ID), g.ID)
		r := e.do("GET", fmt.Sprintf("/api/v3/accounts/%d/users/%d/", a, paul), bearer(mintPAT(t, e, a, tokend.UserID(irulan.ID))), "")
		if r.Code != http.StatusOK {
			t.Fatalf("got %d, want 200: %s", r.Code, r.Raw)
		}
		if strings.Contains(string(r.Body.Data), `"groups"`) {
			t.Errorf("got groups in %s, want none without groups read", r.Body.Data)
		}
	})

	t.Run("not a member is 404", func(t *testing.T) {
		leto := caladan.User.ID
		for _, v := range []string{"v2", "v3"} {
			r := e.do("GET", fmt.Sprintf("/api/%s/accounts/%d/users/%d/", v, a, leto), bearer(arrakis.Token), "")
			if r.Code != http.StatusNotFound || r.Body.Status.Code != http.StatusNotFound {
				t.Errorf("%s: got %d (status.code %d), want 404", v, r.Code, r.Body.Status.Code)
			}
		}
	})
}

// "A Read-Only user in an Account Admin group cannot write", from the very next request.
func TestLicenseChangeAppliesAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	owner := e.initAccount("Arrakis", "paul@example.com")
	a := owner.Account.ID
	stilgar := addUser(t, e, owner.Token, a, `{"email": "stilgar@example.com"}`)
	setGroups(t, e, a, tokend.UserID(stilgar.ID), tokend.GroupID(groupID(t, e, a, "Owner")))
	tok := mintPAT(t, e, a, tokend.UserID(stilgar.ID))
	projects := fmt.Sprintf("/api/v3/accounts/%d/projects/", a)

	if r := e.do("POST", projects, bearer(tok), `{"name": "Sietch Tabr"}`); r.Code != http.StatusCreated {
		t.Fatalf("as a developer in Owner: got %d, want 201: %s", r.Code, r.Raw)
	}
	for range 3 { // warm the verification cache: the change must beat it
		e.do("GET", projects, bearer(tok), "")
	}

	r := e.do("POST", fmt.Sprintf("/api/v2/accounts/%d/permissions/%d/", a, stilgar.Permissions[0].ID),
		bearer(owner.Token), `{"license_type": "read_only", "state": 1}`)
	if r.Code != http.StatusOK {
		t.Fatalf("license change: got %d, want 200: %s", r.Code, r.Raw)
	}
	var lic permissionBody
	r.data(t, &lic)
	if lic.LicenseType != "read_only" || lic.State != 1 || lic.UserID != stilgar.ID || lic.AccountID != int64(a) {
		t.Errorf("got %+v, want Stilgar's active read_only license in account %d", lic, a)
	}
	if got := lic.groupNames(); !slices.Equal(got, []string{"Owner"}) {
		t.Errorf("got groups %v, want [Owner]: a license does not change groups", got)
	}

	tests := []struct {
		name   string
		method string
		path   string
		body   string
		want   int
	}{
		{"write", "POST", projects, `{"name": "Sietch Jacurutu"}`, http.StatusForbidden},
		{"read projects", "GET", projects, "", http.StatusOK},
		{"read users", "GET", fmt.Sprintf("/api/v3/accounts/%d/users/", a), "", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if r := e.do(tt.method, tt.path, bearer(tok), tt.body); r.Code != tt.want {
				t.Errorf("got %d, want %d: %s", r.Code, tt.want, r.Raw)
			}
		})
	}
	if got := auditActions(t, e, a); !slices.Contains(got, "membership.update") {
		t.Errorf("got audit actions %v, want a membership.update", got)
	}
}

func TestRemoveUserFromAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	owner := e.initAccount("Arrakis", "paul@example.com")
	a := owner.Account.ID
	jessica := addUser(t, e, owner.Token, a, `{"email": "jessica@example.com"}`)
	setGroups(t, e, a, tokend.UserID(jessica.ID), tokend.GroupID(groupID(t, e, a, "Owner")))
	tok := mintPAT(t, e, a, tokend.UserID(jessica.ID))
	for range 3 {
		if r := e.do("GET", "/api/v3/whoami/", bearer(tok), ""); r.Code != http.StatusOK {
			t.Fatalf("before removal: got %d, want 200", r.Code)
		}
	}
	license := fmt.Sprintf("/api/v2/accounts/%d/permissions/%d/", a, jessica.Permissions[0].ID)

	r := e.do("POST", license, bearer(owner.Token), `{"license_type": "developer", "state": 2}`)
	if r.Code != http.StatusOK {
		t.Fatalf("remove: got %d, want 200: %s", r.Code, r.Raw)
	}
	var lic permissionBody
	r.data(t, &lic)
	if lic.State != 2 || len(lic.Groups) != 0 {
		t.Errorf("got state %d groups %v, want state 2 and no groups", lic.State, lic.groupNames())
	}

	t.Run("their PAT is refused on the next request", func(t *testing.T) {
		r := e.do("GET", "/api/v3/whoami/", bearer(tok), "")
		if r.Code != http.StatusUnauthorized {
			t.Fatalf("got %d, want 401", r.Code)
		}
		assertUnauthorized(t, r)
	})

	t.Run("the list of active users leaves them out", func(t *testing.T) {
		r := e.do("GET", fmt.Sprintf("/api/v3/accounts/%d/users/", a), bearer(owner.Token), "")
		var users []userBody
		r.data(t, &users)
		if len(users) != 1 || users[0].ID != int64(owner.User.ID) {
			t.Errorf("got %d users, want only the owner", len(users))
		}
		r = e.do("GET", fmt.Sprintf("/api/v3/accounts/%d/users/?state=2", a), bearer(owner.Token), "")
		r.data(t, &users)
		if len(users) != 1 || users[0].ID != jessica.ID || users[0].Permissions[0].State != 2 {
			t.Errorf("state=2: got %+v, want Jessica with state 2", users)
		}
	})

	t.Run("added back, old PATs and groups stay gone", func(t *testing.T) {
		back := addUser(t, e, owner.Token, a, `{"email": "jessica@example.com", "license_type": "analyst"}`)
		if back.ID != jessica.ID || back.Permissions[0].ID != jessica.Permissions[0].ID {
			t.Errorf("got user %d license %d, want the same user and license row", back.ID, back.Permissions[0].ID)
		}
		if p := back.Permissions[0]; p.State != 1 || p.LicenseType != "analyst" || !slices.Equal(p.groupNames(), []string{"Everyone"}) {
			t.Errorf("got %+v, want an active analyst license in Everyone only", p)
		}
		if r := e.do("GET", "/api/v3/whoami/", bearer(tok), ""); r.Code != http.StatusUnauthorized {
			t.Errorf("old PAT: got %d, want 401", r.Code)
		}
	})

	t.Run("refused changes", func(t *testing.T) {
		var me struct {
			License struct {
				ID int64 `json:"id"`
			} `json:"license"`
		}
		e.do("GET", fmt.Sprintf("/api/v3/accounts/%d/users/%d/", a, owner.User.ID), bearer(owner.Token), "").data(t, &me)
		ownerLicense := me.License.ID
		readOnly := addUser(t, e, owner.Token, a, `{"email": "alia@example.com", "license_type": "read_only"}`)
		setGroups(t, e, a, tokend.UserID(readOnly.ID), tokend.GroupID(groupID(t, e, a, "Owner")))
		tests := []struct {
			name  string
			tok   string
			path  string
			body  string
			want  int
			field string
		}{
			{"yourself", owner.Token, fmt.Sprintf("/api/v2/accounts/%d/permissions/%d/", a, ownerLicense),
				`{"license_type": "developer", "state": 2}`, http.StatusBadRequest, "state"},
			{"unknown license", owner.Token, license, `{"license_type": "wizard", "state": 1}`, http.StatusBadRequest, "license_type"},
			{"bad state", owner.Token, license, `{"license_type": "developer", "state": 3}`, http.StatusBadRequest, "state"},
			{"state not a number", owner.Token, license, `{"license_type": "developer", "state": "x"}`, http.StatusBadRequest, "state"},
			{"empty", owner.Token, license, `{}`, http.StatusBadRequest, "license_type"},
			{"unknown license row", owner.Token, fmt.Sprintf("/api/v2/accounts/%d/permissions/999/", a),
				`{"license_type": "developer", "state": 1}`, http.StatusNotFound, ""},
			{"read-only in Owner", mintPAT(t, e, a, tokend.UserID(readOnly.ID)), license, `{"license_type": "developer", "state": 1}`, http.StatusForbidden, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := e.do("POST", tt.path, bearer(tt.tok), tt.body)
				if r.Code != tt.want {
					t.Fatalf("got %d, want %d: %s", r.Code, tt.want, r.Raw)
				}
				if tt.field != "" && r.Body.Status.DeveloperMessage != "invalid field: "+tt.field {
					t.Errorf("got developer_message %q, want it to name %s", r.Body.Status.DeveloperMessage, tt.field)
				}
			})
		}
	})
}

func TestAddUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	arrakis := e.initAccount("Arrakis", "paul@example.com")
	caladan := e.initAccount("Caladan", "leto@example.com")
	a, c := arrakis.Account.ID, caladan.Account.ID
	users := fmt.Sprintf("/api/v3/accounts/%d/users/", a)

	t.Run("new user", func(t *testing.T) {
		u := addUser(t, e, arrakis.Token, a, `{"email": " Duncan@Example.com ", "first_name": "Duncan",
			"last_name": "Idaho", "password": "a long enough password", "license_type": "developer"}`)
		if u.Email != "duncan@example.com" || u.FirstName != "Duncan" || len(u.Permissions) != 1 {
			t.Fatalf("got %+v, want duncan@example.com with one license", u)
		}
		if p := u.Permissions[0]; p.AccountID != int64(a) || p.LicenseType != "developer" || !slices.Equal(p.groupNames(), []string{"Everyone"}) {
			t.Errorf("got %+v, want a developer license in account %d, in Everyone", p, a)
		}
	})

	t.Run("existing user of another account", func(t *testing.T) {
		// Leto's name belongs to Leto: an admin of another account cannot change it, and Leto
		// joins only by accepting the invitation.
		u := joinElsewhere(t, e, arrakis.Token, a, `{"email": "LETO@example.com", "first_name": "Impostor", "password": "ignored entirely"}`,
			caladan.User.ID, caladan.Token)
		if u.ID != int64(caladan.User.ID) || u.FirstName == "Impostor" {
			t.Errorf("got user %d named %q, want Leto's user %d unchanged", u.ID, u.FirstName, caladan.User.ID)
		}
		if len(u.Permissions) != 1 || u.Permissions[0].AccountID != int64(a) {
			t.Errorf("got permissions %+v, want only account %d's", u.Permissions, a)
		}
		// Leto's own PAT of Caladan still sees Caladan only.
		r := e.do("GET", fmt.Sprintf("/api/v2/accounts/%d/users/%d/", c, u.ID), bearer(caladan.Token), "")
		var got userBody
		r.data(t, &got)
		if len(got.Permissions) != 1 || got.Permissions[0].AccountID != int64(c) {
			t.Errorf("from Caladan: got %+v, want only account %d's license", got.Permissions, c)
		}
	})

	tests := []struct {
		name  string
		tok   string
		body  string
		want  int
		field string
	}{
		{"duplicate", arrakis.Token, `{"email": "duncan@example.com"}`, http.StatusBadRequest, "email"},
		{"owner again", arrakis.Token, `{"email": "paul@example.com"}`, http.StatusBadRequest, "email"},
		{"bad e-mail", arrakis.Token, `{"email": "not an address"}`, http.StatusBadRequest, "email"},
		{"short password", arrakis.Token, `{"email": "thufir@example.com", "password": "short"}`, http.StatusBadRequest, "password"},
		{"unknown license", arrakis.Token, `{"email": "thufir@example.com", "license_type": "emperor"}`, http.StatusBadRequest, "license_type"},
		{"long name", arrakis.Token, `{"email": "thufir@example.com", "first_name": "` + strings.Repeat("x", 256) + `"}`, http.StatusBadRequest, "first_name"},
		{"another account's token", caladan.Token, `{"email": "thufir@example.com"}`, http.StatusForbidden, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("POST", users, bearer(tt.tok), tt.body)
			if r.Code != tt.want {
				t.Fatalf("got %d, want %d: %s", r.Code, tt.want, r.Raw)
			}
			if tt.field != "" && r.Body.Status.DeveloperMessage != "invalid field: "+tt.field {
				t.Errorf("got developer_message %q, want it to name %s", r.Body.Status.DeveloperMessage, tt.field)
			}
		})
	}

	t.Run("needs users and licenses write", func(t *testing.T) {
		member := addUser(t, e, arrakis.Token, a, `{"email": "chani@example.com"}`)
		setGroups(t, e, a, tokend.UserID(member.ID), tokend.GroupID(groupID(t, e, a, "Member")))
		r := e.do("POST", users, bearer(mintPAT(t, e, a, tokend.UserID(member.ID))), `{"email": "thufir@example.com"}`)
		if r.Code != http.StatusForbidden {
			t.Errorf("got %d, want 403: %s", r.Code, r.Raw)
		}
	})

	if got := auditActions(t, e, a); !slices.Contains(got, "user.add") {
		t.Errorf("got audit actions %v, want user.add", got)
	}
}
