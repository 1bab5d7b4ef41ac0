package perm

import (
	"bufio"
	"os"
	"slices"
	"strings"
	"testing"

	"tokend/internal/dbtspec"
)

// openAPIEnum returns the values of the enum schema name in dbt's OpenAPI
// document, found by scanning the text: the schema's "enum:" line is
// followed by one "- value" line per value. It fails the test when the
// document is not there.
func openAPIEnum(tb testing.TB, name string) []string {
	tb.Helper()
	openAPIPath := dbtspec.Path(tb, "openapi-v3.yaml")
	f, err := os.Open(openAPIPath)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()

	var values []string
	inSchema, inEnum := false, false
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case !inSchema:
			inSchema = line == "    "+name+":"
		case !inEnum:
			if trimmed == "enum:" {
				inEnum = true
			} else if !strings.HasPrefix(line, "      ") {
				tb.Fatalf("schema %s in %s has no enum list", name, openAPIPath)
			}
		case strings.HasPrefix(trimmed, "- "):
			values = append(values, strings.TrimSpace(strings.TrimPrefix(trimmed, "- ")))
		default:
			if len(values) == 0 {
				tb.Fatalf("enum %s in %s is empty", name, openAPIPath)
			}
			return values
		}
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	tb.Fatalf("enum %s not found in %s", name, openAPIPath)
	return nil
}

func TestSetsMatchOpenAPI(t *testing.T) {
	want := openAPIEnum(t, "PermissionSetEnum")
	var got []string
	for _, s := range Sets() {
		got = append(got, string(s))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Sets() = %v\nwant PermissionSetEnum %v", got, want)
	}
	for _, v := range want {
		t.Run(v, func(t *testing.T) {
			if !Set(v).Valid() {
				t.Errorf("Set(%q).Valid() = false, want true", v)
			}
			if Set(v).Label() == v {
				t.Errorf("Set(%q).Label() = %q, want a human label", v, v)
			}
		})
	}
}

func TestLicensesMatchOpenAPI(t *testing.T) {
	want := openAPIEnum(t, "LicenseTypeEnum")
	var got []string
	for _, l := range LicenseTypes() {
		got = append(got, string(l))
		if !l.Valid() {
			t.Errorf("License(%q).Valid() = false, want true", l)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("LicenseTypes() = %v, want LicenseTypeEnum %v", got, want)
	}
}

// TestPlanEnumParses checks that every PlanEnum value either parses to a
// family or, for the cancelled plans, is refused.
func TestPlanEnumParses(t *testing.T) {
	for _, v := range openAPIEnum(t, "PlanEnum") {
		t.Run(v, func(t *testing.T) {
			p, err := ParsePlan(v)
			if strings.HasPrefix(v, "cancelled") {
				if err == nil {
					t.Errorf("ParsePlan(%q) = %q, nil; want an error", v, p)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParsePlan(%q): %v", v, err)
			}
			if p.Family() == "" {
				t.Errorf("ParsePlan(%q) = %q with no family", v, p)
			}
		})
	}
}
