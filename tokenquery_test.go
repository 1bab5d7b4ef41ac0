package tokend_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"tokend"
)

func TestParseTokenQuery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		query   string
		want    tokend.TokenQuery
		wantErr string // the field named by the error
	}{
		{"empty: the default order", "", tokend.TokenQuery{Order: tokend.Order{Field: "created_at", Desc: true}}, ""},
		{"everything", "search=+ci+&expired=true&never_used=1&idle_days=30&federated=on&disabled=TRUE&order_by=name",
			tokend.TokenQuery{Search: "ci", Expired: true, NeverUsed: true, IdleDays: 30, Federated: true, Disabled: true,
				Order: tokend.Order{Field: "name"}}, ""},
		{"false spelt three ways", "expired=false&never_used=0&disabled=off",
			tokend.TokenQuery{Order: tokend.Order{Field: "created_at", Desc: true}}, ""},
		{"by id is the zero order", "order_by=-id", tokend.TokenQuery{Order: tokend.Order{Desc: true}}, ""},
		{"descending last use", "order_by=-last_used_at", tokend.TokenQuery{Order: tokend.Order{Field: "last_used_at", Desc: true}}, ""},
		{"an unknown order", "order_by=hash", tokend.TokenQuery{}, "order_by"},
		{"idle days not a number", "idle_days=a+month", tokend.TokenQuery{}, "idle_days"},
		{"idle days negative", "idle_days=-1", tokend.TokenQuery{}, "idle_days"},
		{"idle days too many", "idle_days=3651", tokend.TokenQuery{}, "idle_days"},
		{"a boolean that is none", "federated=yes", tokend.TokenQuery{}, "federated"},
		{"a search too long", "search=" + strings.Repeat("x", 256), tokend.TokenQuery{}, "search"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tokend.ParseTokenQuery(q, "-created_at")
			if tt.wantErr != "" {
				var e *tokend.Error
				if !errors.As(err, &e) || e.Code != tokend.EInvalid || e.Field != tt.wantErr {
					t.Fatalf("got error %v, want EInvalid on %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			// What Params writes reads back the same.
			again, err := tokend.ParseTokenQuery(got.Params(), "")
			if err != nil || again != got {
				t.Errorf("Params round trip: got %+v (%v), want %+v", again, err, got)
			}
		})
	}
}
