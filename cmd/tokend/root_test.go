package main

import (
	"errors"
	"testing"

	"tokend"
)

func TestOperatorError(t *testing.T) {
	t.Parallel()
	cause := errors.New("sqlite: disk I/O error")
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"domain error: its message", tokend.Invalidf("email", "%q is not a valid e-mail address.", "x"), `"x" is not a valid e-mail address.`},
		{"internal: the cause", cause, "sqlite: disk I/O error"},
		{"internal domain code: the whole error", &tokend.Error{Code: tokend.EInternal, Message: "boom"}, "tokend: internal: boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := operatorError(tt.err).Error(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
