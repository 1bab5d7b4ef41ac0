package httpapi_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"tokend/httpapi"
)

// TestDocsListEveryRoute: docs/api.md names every route of the table, so that the API's
// reference stays complete as routes are added.
func TestDocsListEveryRoute(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	// `GET\|POST /api/v3/accounts/{a}/groups/[{g}/]`: methods, a path, optional parts in [].
	code := regexp.MustCompile("`((?:GET|POST|PUT|PATCH|DELETE)(?:\\\\?\\|(?:GET|POST|PUT|PATCH|DELETE))*) (/[^` ]*)`")
	documented := map[string]bool{}
	for _, m := range code.FindAllStringSubmatch(string(b), -1) {
		methods := strings.Split(strings.ReplaceAll(m[1], `\|`, "|"), "|")
		for _, path := range expandOptional(m[2]) {
			for _, method := range methods {
				documented[method+" "+normalRoute(path)] = true
			}
		}
	}
	for _, rt := range httpapi.Routes() {
		method, path, _ := strings.Cut(rt.Pattern, " ")
		if !documented[method+" "+normalRoute(path)] {
			t.Errorf("docs/api.md does not list %s", rt.Pattern)
		}
	}
}

var placeholderAny = regexp.MustCompile(`\{[^}/]*\}`)

// normalRoute drops what differs between the table and the docs: placeholder names, a
// trailing slash.
func normalRoute(path string) string {
	return strings.TrimSuffix(placeholderAny.ReplaceAllString(path, "{}"), "/")
}

// expandOptional turns "/a/[{b}/]" into "/a/" and "/a/{b}/".
func expandOptional(path string) []string {
	i := strings.Index(path, "[")
	j := strings.Index(path, "]")
	if i < 0 || j < i {
		return []string{path}
	}
	return append(expandOptional(path[:i]+path[j+1:]), expandOptional(path[:i]+path[i+1:j]+path[j+1:])...)
}
