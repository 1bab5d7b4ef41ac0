package console

import (
	"strings"
	"testing"
	"time"

	"tokend"
	"tokend/perm"
)

func TestLocalPath(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"/settings/users?offset=50", "/settings/users?offset=50"},
		{"", "/"},
		{"https://evil.example/", "/"},
		{"//evil.example/", "/"},
		{"/\\evil.example", "/"},
		{"javascript:alert(1)", "/"},
		{"/ok\r\nSet-Cookie: x=1", "/"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := localPath(tt.in); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestChartLayout(t *testing.T) {
	t.Parallel()
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	days := func(counts ...int64) []tokend.DailyUse {
		out := make([]tokend.DailyUse, len(counts))
		for i, n := range counts {
			out[i] = tokend.DailyUse{Day: day.AddDate(0, 0, i), Count: n}
		}
		return out
	}
	tests := []struct {
		name       string
		in         []tokend.DailyUse
		total      int64
		peak       int64
		zeroBars   int
		wantLabel  string
		tallestBar int
	}{
		{"no use", days(0, 0, 0), 0, 0, 3, "0 requests over the last 3 days", -1},
		{"one busy day", days(0, 5, 0), 5, 5, 2, "5 requests over the last 3 days, from Mar 1 to Mar 3", 1},
		{"every day", days(1, 2, 4, 2), 9, 4, 0, "busiest day had 4 requests", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newChart(tt.in)
			if c.Total != tt.total || c.Peak != tt.peak {
				t.Errorf("total, peak: got %d, %d, want %d, %d", c.Total, c.Peak, tt.total, tt.peak)
			}
			if len(c.Bars) != len(tt.in) {
				t.Fatalf("got %d bars, want %d", len(c.Bars), len(tt.in))
			}
			zero := 0
			for i, b := range c.Bars {
				if b.Zero {
					zero++
				}
				if b.X < c.Left || b.X+b.W > c.Right+0.1 || b.Y < c.Top-0.1 || b.Y+b.H > c.Base+0.1 {
					t.Errorf("bar %d (%+v) leaves the plot area", i, b)
				}
				if tt.tallestBar == i && b.H != c.PlotH {
					t.Errorf("the busiest day's bar is %.1f high, want the full %.1f", b.H, c.PlotH)
				}
			}
			if zero != tt.zeroBars {
				t.Errorf("got %d zero bars, want %d", zero, tt.zeroBars)
			}
			if !strings.Contains(c.Label, tt.wantLabel) {
				t.Errorf("label %q lacks %q", c.Label, tt.wantLabel)
			}
		})
	}
}

func TestRefusal(t *testing.T) {
	in := &signedIn{account: &tokend.Account{ID: 42, Name: "Spice Harvesting", Plan: perm.PlanEnterprise}}
	tests := []struct {
		name string
		m    *tokend.Missing
		want string
	}{
		{"groups could grant it", &tokend.Missing{Permission: "service_tokens:read", GrantedBy: []string{"account_admin", "security_admin"}},
			"You cannot see service tokens in Spice Harvesting. An account admin can add you to a group with one of these permission sets: Account Admin, Security Admin."},
		{"the license rules it out", &tokend.Missing{Permission: "projects:write", License: "read_only"},
			"You cannot change projects in Spice Harvesting: your Read-only license does not allow it, whatever your groups grant. An account admin can change your license."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := refusal(in, tt.m); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
