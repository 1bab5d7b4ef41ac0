package perm

import "testing"

func TestWriteImpliesRead(t *testing.T) {
	for _, r := range Resources() {
		t.Run(r.String(), func(t *testing.T) {
			w := Cap(r, Write)
			if !w.Has(r, Read) {
				t.Errorf("Cap(%v, Write).Has(Read) = false, want true", r)
			}
			if !w.Has(r, Write) {
				t.Errorf("Cap(%v, Write).Has(Write) = false, want true", r)
			}
			rd := Cap(r, Read)
			if !rd.Has(r, Read) || rd.Has(r, Write) {
				t.Errorf("Cap(%v, Read): Has(Read), Has(Write) = %v, %v; want true, false", r, rd.Has(r, Read), rd.Has(r, Write))
			}
			for _, o := range Resources() {
				if o != r && (w|rd).Has(o, Read) {
					t.Errorf("capabilities on %v leak to %v", r, o)
				}
			}
		})
	}
}

func TestCapInvalid(t *testing.T) {
	tests := []struct {
		name string
		r    Resource
		a    Access
	}{
		{"resource past the end", numResources, Read},
		{"zero access", Jobs, 0},
		{"unknown access", Jobs, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Cap(tt.r, tt.a); got != 0 {
				t.Errorf("Cap(%d, %d) = %v, want none", tt.r, tt.a, got)
			}
			if allCaps.Has(tt.r, tt.a) {
				t.Errorf("allCaps.Has(%d, %d) = true, want false", tt.r, tt.a)
			}
		})
	}
}

func TestReadOnly(t *testing.T) {
	tests := []struct {
		name string
		in   Caps
		want Caps
	}{
		{"none", 0, 0},
		{"write bit alone becomes read", Cap(Jobs, Write), Cap(Jobs, Read)},
		{"read kept", Cap(Billing, Read), Cap(Billing, Read)},
		{"mixed", write(Users, Credentials) | read(Metadata), read(Users, Credentials, Metadata)},
		{"everything", allCaps, readBits},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.in.ReadOnly()
			if got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			for _, r := range Resources() {
				if got.Has(r, Write) {
					t.Errorf("ReadOnly() still writes %v", r)
				}
				if tt.in.Has(r, Read) != got.Has(r, Read) {
					t.Errorf("ReadOnly() read of %v: got %v, want %v", r, got.Has(r, Read), tt.in.Has(r, Read))
				}
			}
		})
	}
}

func TestResourceLevels(t *testing.T) {
	want := map[Resource]Level{
		AccountSettings: AccountLevel, Billing: AccountLevel, Users: AccountLevel, Licenses: AccountLevel,
		Groups: AccountLevel, ServiceTokens: AccountLevel, IPRestrictions: AccountLevel, AuditLog: AccountLevel,
		Connections: AccountLevel, Webhooks: AccountLevel,
		Projects: ProjectLevel, Environments: ProjectLevel, Jobs: ProjectLevel, Metadata: ProjectLevel,
		SemanticLayer: ProjectLevel, Credentials: ProjectLevel,
	}
	if got := len(Resources()); got != len(want) {
		t.Fatalf("len(Resources()) = %d, want %d", got, len(want))
	}
	for _, r := range Resources() {
		t.Run(r.String(), func(t *testing.T) {
			if got := r.Level(); got != want[r] {
				t.Errorf("got %v, want %v", got, want[r])
			}
		})
	}
	if levelMask(AccountLevel)|levelMask(ProjectLevel) != allCaps || levelMask(AccountLevel)&levelMask(ProjectLevel) != 0 {
		t.Errorf("level masks do not partition every capability")
	}
}

func TestResourceString(t *testing.T) {
	tests := []struct {
		r    Resource
		want string
	}{
		{AccountSettings, "account_settings"},
		{IPRestrictions, "ip_restrictions"},
		{SemanticLayer, "semantic_layer"},
		{Credentials, "credentials"},
		{numResources, "resource(16)"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.r.String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCapsString(t *testing.T) {
	tests := []struct {
		name string
		c    Caps
		want string
	}{
		{"none", 0, "none"},
		{"mixed", write(Billing) | read(Jobs) | Cap(Jobs, Read), "billing:W jobs:R"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
